import assert from "node:assert/strict";
import { access, mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { exitOf, runCli, startCommand, startNpmStart, startOnTerminal, startServe } from "../support/cli.ts";

/** One process per data directory, a start from the build's image, signals and the terminal: through the built command. */
describe("strata processes (embedded)", () => {
  let root: string;
  let n = 0;
  const freshDataDir = () => path.join(root, `data-${++n}`);
  const lockFile = (dataDir: string) => path.join(dataDir, "strata.lock");
  const lockPid = async (dataDir: string) => JSON.parse(await readFile(lockFile(dataDir), "utf8")).pid as number;
  const serveEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
    PORT: "0",
    HOST: "127.0.0.1",
    STRATA_DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    ...extra,
  });

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "strata-process-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("refuses a second server, worker or migrate on a data directory in use, naming the holder; the first keeps its data", async () => {
    const dataDir = freshDataDir();
    const first = await startServe(serveEnv(dataDir));
    try {
      // A fresh directory starts from the build's image: no initdb ran.
      assert.match(first.output(), /"database":\{"from":"image"\}/);
      // JSON logs are written asynchronously: this line may follow the start-up line.
      await waitForOutput(first.output, /"msg":"workers started"/);
      const credentials = { email: "first@example.com", password: "correct horse battery staple" };
      const registered = await post(`${first.url}/v1/auth/register`, { ...credentials, name: "First" });
      assert.equal(registered.status, 201);

      for (const args of [["serve"], ["worker"], ["migrate", "up"], ["migrate", "status"]]) {
        const refused = await runCli(args, serveEnv(dataDir));
        assert.equal(refused.code, 75, `strata ${args.join(" ")}: ${refused.stderr}`);
        assert.match(
          refused.stderr,
          new RegExp(`data directory .* is in use by pid ${first.child.pid} \\(strata serve\\) on \\S+ since \\d{4}-`),
        );
        assert.doesNotMatch(refused.stdout, /listening on|database opened|workers started/);
      }

      const login = await post(`${first.url}/v1/auth/login`, credentials);
      assert.equal(login.status, 200, "the first server still serves, with its data");
    } finally {
      first.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(first.child), 0);
    await assert.rejects(access(lockFile(dataDir)), "a clean stop releases the lock");

    const again = await startServe(serveEnv(dataDir));
    try {
      assert.match(again.output(), /"database":\{"from":"existing"\}/);
      const login = await post(`${again.url}/v1/auth/login`, {
        email: "first@example.com",
        password: "correct horse battery staple",
      });
      assert.equal(login.status, 200, "the user survived the restart");
    } finally {
      again.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(again.child), 0);
  });

  it("takes over the lock of a server killed with SIGKILL", async () => {
    const dataDir = freshDataDir();
    const killed = await startServe(serveEnv(dataDir));
    killed.child.kill("SIGKILL");
    await exitOf(killed.child);
    assert.equal(await lockPid(dataDir), killed.child.pid, "the killed server left its lock");

    const next = await startServe(serveEnv(dataDir, { LOG_LEVEL: "warn" }));
    try {
      assert.match(next.output(), /took over the data directory lock of a process that is gone/);
      assert.match(next.output(), new RegExp(`"pid":${killed.child.pid}`));
      assert.equal((await fetch(`${next.url}/ready`)).status, 200);
      assert.equal(await lockPid(dataDir), next.child.pid);
    } finally {
      next.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(next.child), 0);
  });

  it("exits at once when the port is in use, before any worker runs", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    const dataDir = freshDataDir();
    try {
      const result = await runCli(["serve"], serveEnv(dataDir, { PORT: String(port) }));
      assert.equal(result.code, 71, result.stderr);
      assert.match(result.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use`));
      assert.match(result.stdout, /"msg":"database opened"/, "it got as far as listening");
      assert.doesNotMatch(result.stdout, /workers started|listening on/);
      await assert.rejects(access(lockFile(dataDir)), "the lock is released");
    } finally {
      blocker.close();
    }
  });

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`stops the server process itself when npm start gets ${signal}`, async () => {
      const dataDir = freshDataDir();
      const npm = await startNpmStart(serveEnv(dataDir, { LOG_LEVEL: "warn" }));
      const serverPid = await lockPid(dataDir);
      assert.notEqual(serverPid, npm.child.pid, "the server is npm's child, not npm itself");
      npm.child.kill(signal);
      await exitOf(npm.child);
      await waitUntilGone(serverPid);
      await assert.rejects(access(lockFile(dataDir)), "the server shut down cleanly and released its lock");
    });
  }

  it("prints readable lines on a terminal and JSON elsewhere, and says where it listens, keeps its data and documents its API", async () => {
    const dataDir = freshDataDir();
    const onTerminal = await startOnTerminal(["serve"], serveEnv(dataDir), /API docs at \S+\/docs/);
    let output: string;
    try {
      output = onTerminal.output();
    } finally {
      process.kill(await lockPid(dataDir), "SIGTERM");
    }
    await exitOf(onTerminal.child);
    assert.match(output, /INFO.*database opened/);
    assert.doesNotMatch(output, /\{"level":/, "no raw JSON on a terminal");
    assert.match(
      output,
      /Strata embedded listening on http:\/\/127\.0\.0\.1:\d+ \(data in [^)]+data-\d+\); API docs at http:\/\/127\.0\.0\.1:\d+\/docs/,
    );

    const offTerminal = await startCommand(["serve"], serveEnv(freshDataDir()), /API docs at/);
    offTerminal.child.kill("SIGTERM");
    await exitOf(offTerminal.child);
    const lines = offTerminal.output().trim().split("\n");
    const json = lines.filter((line) => line.startsWith("{"));
    assert.ok(json.length >= 2, offTerminal.output());
    for (const line of json) assert.equal(JSON.parse(line).service, "strata");
  });
});

async function post(url: string, body: unknown) {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

async function waitForOutput(output: () => string, pattern: RegExp) {
  const deadline = Date.now() + 30_000;
  while (!pattern.test(output())) {
    if (Date.now() > deadline) assert.fail(`output never matched ${pattern}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Resolves once `pid` no longer runs (a zombie awaiting its reaper counts as gone). */
async function waitUntilGone(pid: number) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let state = "";
    try {
      process.kill(pid, 0);
      state = (await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "x) Z")).split(") ")[1]?.[0] ?? "";
    } catch {
      return;
    }
    if (state === "Z") return;
    if (Date.now() > deadline) assert.fail(`server process ${pid} still runs after npm stopped`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
