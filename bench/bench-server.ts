/**
 * What the benchmarks that measure a server in its own process share: the
 * server script's side (an account whose API rate limit is out of the way,
 * then the one JSON line naming the port and token) and the benchmark's
 * side (spawning the script and reading that line).
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { sql } from "kysely";
import type { App } from "../src/http/app.ts";
import type { Platform } from "../src/runtime/platform.ts";

const ROOT = path.resolve(import.meta.dirname, "..");

/** In the server script: registers the benchmark's account, lifts its rate limit, listens, and announces itself. */
export async function listenForBench(app: App, platform: Platform): Promise<void> {
  const registered = await app.inject({
    method: "POST",
    url: "/v1/auth/register",
    payload: { email: "bench@example.com", password: "correct horse battery staple", name: "Bench" },
  });
  const { accessToken, user } = registered.json() as { accessToken: string; user: { id: string } };
  await sql`update organizations set settings = jsonb_set(settings, '{rate_limits}', '{"api": 1000000}')
    where id = (select personal_organization_id from users where id = ${user.id})`.execute(platform.database.db);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ port, token: accessToken })}\n`);
}

/** In the benchmark: starts `script` (relative to the repository) on `dataDir` and waits for its line. */
export async function startBenchServer(
  script: string,
  dataDir: string,
  nodeArgs: readonly string[] = [],
): Promise<{ child: ChildProcess; url: string; token: string }> {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", path.join(ROOT, script), dataDir], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  for await (const line of lines) {
    clearTimeout(timer);
    const { port, token } = JSON.parse(line) as { port: number; token: string };
    return { child, url: `http://127.0.0.1:${port}`, token };
  }
  throw new Error("the benchmark server exited before it listened");
}
