/**
 * The request path under load: an authenticated GET /v1/documents/:id of a
 * 4 KB document beside /health and a bare node:http server, on both profiles,
 * measured in the same run.
 *
 * - embedded: PGlite (in memory), the in-process key-value store, blobs on the
 *   filesystem;
 * - server: a scratch database on the Postgres server (TEST_DATABASE_URL),
 *   Redis (TEST_REDIS_URL) under a key prefix of its own, blobs on the
 *   filesystem.
 *
 * Load comes from autocannon in a child process (its own event loop and CPU),
 * BENCH_CONNECTIONS connections (default 32) for BENCH_SECONDS per target
 * (default 10). The caller's rate limit is raised out of the way through the
 * operator's per-organization setting. Each read's Redis commands and database
 * statements are counted from Strata's own /metrics counters (one key-value
 * call is one command; every statement, BEGIN and COMMIT included, is one
 * round trip). Version saves (POST /v1/documents/:id/versions, distinct 4 KB
 * contents, one at a time) report their median and p99.
 *
 * Goal (issue 7): the document read at >= 25% of node:http's requests per
 * second with p99 <= 10 ms.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { sql } from "kysely";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { writingModule } from "../src/modules/writing/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform, type Platform } from "../src/runtime/platform.ts";
import { httpClient } from "../test/support/http.ts";
import { createScratchDatabase } from "../test/support/postgres.ts";
import { TEST_SIGNING_SECRET } from "../test/support/services.ts";

const run = promisify(execFile);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const SAVES = Number(process.env.BENCH_SAVES ?? 200);
/** `embedded`, `server`, or both (the default). */
const PROFILES = (process.env.BENCH_PROFILES ?? "embedded,server").split(",");
const POSTGRES_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const AUTOCANNON = fileURLToPath(new URL("../node_modules/autocannon/autocannon.js", import.meta.url));

interface Load {
  perSecond: number;
  p50: number;
  p99: number;
  ok: number;
  errors: number;
}

/** autocannon in its own process, so the load generator never shares the server's event loop. */
async function load(url: string, headers: Record<string, string> = {}): Promise<Load> {
  const args = [AUTOCANNON, "-c", String(CONNECTIONS), "-d", String(SECONDS), "-j"];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}=${value}`);
  args.push(url);
  const { stdout } = await run(process.execPath, args, { maxBuffer: 16 * 1024 * 1024 });
  const report = JSON.parse(stdout) as {
    requests: { average: number };
    latency: { p50: number; p99: number };
    "2xx": number;
    non2xx: number;
    errors: number;
  };
  return {
    perSecond: report.requests.average,
    p50: report.latency.p50,
    p99: report.latency.p99,
    ok: report["2xx"],
    errors: report.non2xx + report.errors,
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The same work a minimal JSON endpoint does, with nothing of Strata in it. */
async function bareNodeHttp(): Promise<Load> {
  const body = JSON.stringify({ status: "ok" });
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    res.end(body);
  });
  const base = await listen(server);
  try {
    return await load(`${base}/`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Sum of a counter or histogram's samples in this process's registry, filtered by labels. */
async function counted(platform: Platform, metric: string, labels: Record<string, string> = {}): Promise<number> {
  const found = platform.metrics.registry.getSingleMetric(metric);
  if (!found) return 0;
  const { values } = await found.get();
  let total = 0;
  for (const v of values) {
    const name = (v as { metricName?: string }).metricName;
    if (name !== undefined && name !== metric && !name.endsWith("_count")) continue;
    if (Object.entries(labels).every(([k, want]) => v.labels[k] === want)) total += v.value;
  }
  return total;
}

function fourKilobytes(seed: number): string {
  const words = "strata keeps documents with their history and answers reads from memory".split(" ");
  const out: string[] = [];
  let length = 0;
  let i = seed;
  while (length < 4096) {
    i = (i * 7 + 3) % words.length;
    out.push(words[i] as string);
    length += (words[i] as string).length + 1;
  }
  return `${seed} ${out.join(" ")}`.slice(0, 4096);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

async function profile(name: string, env: Record<string, string>, cleanup: () => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-request-"));
  const loaded = loadConfig({ STRATA_DATA_DIR: dir, LOG_LEVEL: "silent", ...env });
  const config = {
    ...loaded,
    database: loaded.database.driver === "pglite" ? { ...loaded.database, dataDir: null } : loaded.database,
  } as typeof loaded;
  const platform = await openPlatform(config, { logger: createLogger("silent") });
  try {
    await createMigrator(platform.database, [writingModule]).up();
    const app = await buildServer(platform, [writingModule]);
    const base = await app.listen({ port: 0, host: "127.0.0.1" });
    const post = (url: string, body: unknown, token?: string) => httpClient(base, { token })("POST", url, body);
    const registered = await post("/v1/auth/register", {
      email: `bench-${randomUUID().slice(0, 8)}@example.com`,
      password: "correct horse battery staple 42",
      name: "Bench",
    });
    const token = registered.body.accessToken as string;
    const organizationId = registered.body.organizationId as string;
    // The operator's per-organization setting, as a deployment would raise a heavy tenant's limit.
    await sql`update organizations set settings = settings || '{"rate_limits": {"api": 100000000}}'::jsonb
      where id = ${organizationId}`.execute(platform.database.db);
    await platform.identity.organizations.forgetLimits(organizationId);
    const created = await post("/v1/documents", { title: "Bench", content: fourKilobytes(0) }, token);
    const documentId = created.body.id as string;
    const auth = { authorization: `Bearer ${token}` };

    const health = await load(`${base}/health`);
    const kvBefore = await counted(platform, "strata_dependency_call_duration_seconds", { dependency: "kv" });
    const dbBefore = await counted(platform, "strata_db_queries_total");
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    const read = await load(`${base}/v1/documents/${documentId}`, auth);
    const cpu = process.cpuUsage(cpuBefore);
    // Share of one core this process used while serving the reads: near 100% means CPU-bound here.
    const cpuShare = (cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore);
    const kvPerRead =
      ((await counted(platform, "strata_dependency_call_duration_seconds", { dependency: "kv" })) - kvBefore) / read.ok;
    const dbPerRead = ((await counted(platform, "strata_db_queries_total")) - dbBefore) / read.ok;

    const saves: number[] = [];
    for (let i = 1; i <= SAVES; i++) {
      // Made before the clock starts: the client's work is not the save's.
      const content = fourKilobytes(i);
      const started = performance.now();
      const saved = await post(`/v1/documents/${documentId}/versions`, { content, kind: "major" }, token);
      saves.push(performance.now() - started);
      if (saved.status !== 201) throw new Error(`save answered ${saved.status}: ${JSON.stringify(saved.body)}`);
    }
    saves.sort((a, b) => a - b);
    await app.close();
    return {
      name,
      health,
      read,
      cpuShare,
      kvPerRead,
      dbPerRead,
      saveP50: percentile(saves, 0.5),
      saveP99: percentile(saves, 0.99),
    };
  } finally {
    await platform.close();
    await rm(dir, { recursive: true, force: true });
    await cleanup();
  }
}

export async function runRequestPathBench() {
  const bare = await bareNodeHttp();
  const results: Awaited<ReturnType<typeof profile>>[] = [];
  if (PROFILES.includes("embedded")) results.push(await profile("embedded", {}, async () => {}));
  const scratch = await createScratchDatabase();
  const prefix = `bench:${randomUUID()}:`;
  if (PROFILES.includes("server"))
    results.push(
      await profile(
        "server",
        {
          DATABASE_URL: scratch.url,
          REDIS_URL: REDIS_URL,
          KV_KEY_PREFIX: prefix,
          STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
        },
        async () => {
          await scratch.drop();
          const { RedisKvStore } = await import("../src/platform/kv/redis-kv-store.ts");
          const kv = await RedisKvStore.connect(REDIS_URL, prefix);
          for await (const key of kv.scan("")) await kv.del(key);
          await kv.close();
        },
      ),
    );

  const row = (label: string, r: Load) =>
    `${label.padEnd(44)}${r.perSecond.toFixed(0).padStart(9)}${r.p50.toFixed(1).padStart(9)}${r.p99.toFixed(1).padStart(9)}${String(r.errors).padStart(8)}`;
  console.log(
    `${CONNECTIONS} connections, ${SECONDS} s per target, autocannon in a child process; Postgres ${POSTGRES_URL.replace(/\/\/[^@]*@/, "//")}`,
  );
  console.log(
    `${"".padEnd(44)}${"req/s".padStart(9)}${"p50 ms".padStart(9)}${"p99 ms".padStart(9)}${"non-2xx".padStart(8)}`,
  );
  console.log(row("bare node:http", bare));
  for (const r of results) {
    console.log(row(`${r.name}: GET /health`, r.health));
    console.log(row(`${r.name}: GET /v1/documents/:id (4 KB, signed in)`, r.read));
  }
  for (const r of results) {
    console.log(
      `${r.name}: document read at ${((100 * r.read.perSecond) / bare.perSecond).toFixed(0)}% of node:http (goal >= 25%, p99 <= 10 ms); ` +
        `per read: ${r.kvPerRead.toFixed(2)} key-value commands, ${r.dbPerRead.toFixed(2)} database round trips; ` +
        `server process at ${(100 * r.cpuShare).toFixed(0)}% of a core during the reads; ` +
        `version save (4 KB, one at a time, ${SAVES}): median ${r.saveP50.toFixed(1)} ms, p99 ${r.saveP99.toFixed(1)} ms`,
    );
  }
}
