/**
 * Start-up time and idle memory of `npm start` on the embedded profile.
 *
 * Strata: the time from spawning `npm start` until /ready answers 200, on a
 * fresh data directory and again on the same directory (second start), and
 * the server's resident memory after it has sat idle for a while after each.
 * The peer: bare PGlite with the same extensions in a process of its own,
 * timed from spawning `node` until the database answers, on a fresh and on an
 * existing directory, and its resident memory on the existing one after the
 * same idle time. Both are measured in this run, on this machine.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";

const ROOT = path.resolve(import.meta.dirname, "..");
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10);
/** Second starts timed (the median is reported): one start alone varies by tens of milliseconds. */
const REPEATS = Number(process.env.BENCH_STARTS ?? 5);
const MiB = 1024 * 1024;

interface Started {
  ms: number;
  url: string;
  child: ChildProcess;
}

async function startStrata(dataDir: string): Promise<Started> {
  const started = performance.now();
  const child = spawn("npm", ["start", "--silent"], {
    cwd: ROOT,
    env: { ...process.env, STRATA_DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
    detached: true,
  });
  // PORT=0 picks a free port; the start-up line says which.
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const match = /listening on (http:\/\/\S+:\d+)/.exec(line);
      if (match) resolve(match[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`npm start exited with ${code}`)));
  });
  for (;;) {
    if (performance.now() - started > 120_000) throw new Error("server did not become ready in 120 s");
    const res = await fetch(`${url}/ready`).catch(() => null);
    if (res?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { ms: performance.now() - started, url, child };
}

async function stopStrata(server: Started) {
  process.kill(-(server.child.pid as number), "SIGTERM");
  if (server.child.exitCode === null) await new Promise((resolve) => server.child.once("exit", resolve));
}

async function residentMemory(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const match = /^process_resident_memory_bytes (\S+)$/m.exec(text);
  return match ? Number(match[1]) : Number.NaN;
}

async function strataRun(dataDir: string, idleSeconds = IDLE_SECONDS) {
  const server = await startStrata(dataDir);
  await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000));
  const rss = await residentMemory(server.url);
  await stopStrata(server);
  return { ms: server.ms, rss };
}

/** Bare PGlite in its own process: time from spawn to answering, and RSS after the idle time. */
async function peerRun(dataDir: string, idleSeconds: number) {
  const started = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, "bench/pglite-peer.mjs"), dataDir, String(idleSeconds)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let ms = Number.NaN;
  let rss = Number.NaN;
  for await (const line of createInterface({ input: child.stdout })) {
    const value = JSON.parse(line) as { ready?: number; rss?: number };
    if (value.ready !== undefined) ms = performance.now() - started;
    if (value.rss !== undefined) rss = value.rss;
  }
  return { ms, rss };
}

export async function runStartupBench() {
  // Build first (if stale), so the fresh start measures a start, not a build.
  const build = spawnSync(process.execPath, [path.join(ROOT, "scripts/build.mjs"), "--if-stale"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("build failed");
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-"));
  try {
    const fresh = await strataRun(path.join(dir, "strata"));
    const second = await strataRun(path.join(dir, "strata"));
    const peerFresh = await peerRun(path.join(dir, "peer"), 0);
    const peerAgain = await peerRun(path.join(dir, "peer"), IDLE_SECONDS);
    const seconds = [second.ms];
    const peerSeconds = [peerAgain.ms];
    for (let i = 1; i < REPEATS; i++) {
      seconds.push((await strataRun(path.join(dir, "strata"), 0)).ms);
      peerSeconds.push((await peerRun(path.join(dir, "peer"), 0)).ms);
    }

    const row = (label: string, strata: string, peer: string, goal: string) =>
      console.log(`  ${label.padEnd(46)}${strata.padStart(10)}${peer.padStart(14)}   ${goal}`);
    console.log(
      `${"startup (embedded profile)".padEnd(48)}${"strata".padStart(10)}${"bare PGlite".padStart(14)}   goal`,
    );
    row("fresh data directory -> ready", secs(fresh.ms), secs(peerFresh.ms), "strata <= 1.50 s");
    row(
      `second start, same dir -> ready (median of ${seconds.length})`,
      secs(median(seconds)),
      secs(median(peerSeconds)),
      `strata <= 0.80 s; strata's range ${secs(Math.min(...seconds))}-${secs(Math.max(...seconds))}`,
    );
    const ratio = (rss: number) => `${(rss / peerAgain.rss).toFixed(2)}x bare PGlite's, existing dir; goal <= 1.15x`;
    row(`RSS ${IDLE_SECONDS} s after a fresh start`, mib(fresh.rss), "", ratio(fresh.rss));
    row(`RSS ${IDLE_SECONDS} s after a second start`, mib(second.rss), mib(peerAgain.rss), ratio(second.rss));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] as number;
}

function secs(ms: number) {
  return `${(ms / 1000).toFixed(2)} s`;
}

function mib(bytes: number) {
  return `${(bytes / MiB).toFixed(0)} MiB`;
}
