/**
 * Does the event loop keep serving while entries are analyzed and embedded?
 *
 * An embedded Strata server with its job workers, as `npm start` runs it,
 * in its own process (bench/journal-load-server.ts). Phases:
 *   idle      nothing but the probe, BENCH_IDLE_SECONDS (default 5): the floor;
 *   writing   one client writes BENCH_ENTRIES_LOAD journal entries (default
 *             200) of BENCH_ENTRY_KB (default 8) KB of real prose each, back
 *             to back (or BENCH_WRITE_EVERY_MS apart), and each entry's
 *             analysis (sentiment, emotions, keywords, topics) and embedding
 *             run as jobs behind it;
 *   draining  after the last write, until every analysis task has succeeded
 *             and the last entry has its vector.
 * Throughout, a probe calls GET /health every 20 ms from a worker thread of
 * its own (health-probe.mjs) and records its latency. Reported per phase:
 * /health p50, p99 and max; entries written per second and the time the
 * work behind them took. Goal: /health p99 <= 20 ms while entries are
 * analyzed and embedded (the compute pool takes large texts off the loop).
 * The embedded profile's database (PGlite) runs SQL on the event loop
 * itself, so the writes' own statements count against it too.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { httpClient } from "../test/support/http.ts";
import { readRealHistory } from "../test/support/real-histories.ts";
import { startBenchServer } from "./bench-server.ts";
import { generator, percentile } from "./search-corpus.ts";

const ENTRIES = Number(process.env.BENCH_ENTRIES_LOAD ?? 200);
const ENTRY_KB = Number(process.env.BENCH_ENTRY_KB ?? 8);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
/** A pause between writes (0: back to back, the heaviest load one writer makes). */
const WRITE_EVERY_MS = Number(process.env.BENCH_WRITE_EVERY_MS ?? 0);
const PROBE_EVERY_MS = 20;
const REQUEST_TIMEOUT_MS = 60_000;

/** A probe in its own thread for `seconds`; the latencies it saw. */
function probe(url: string, seconds: number): Promise<number[]> {
  const worker = new Worker(new URL("./health-probe.mjs", import.meta.url), {
    workerData: { url: `${url}/health`, seconds, everyMs: PROBE_EVERY_MS, timeoutMs: REQUEST_TIMEOUT_MS },
  });
  return new Promise((resolve, reject) => {
    worker.once("message", (latencies: number[]) => {
      void worker.terminate();
      resolve(latencies);
    });
    worker.once("error", reject);
  });
}

/** Entries of about `kb` KB, cut from real revisions of a real document at random places. */
function texts(count: number, kb: number): string[] {
  const revisions = readRealHistory("README.md").slice(-50);
  const random = generator(3);
  return Array.from({ length: count }, () => {
    const source = revisions[Math.floor(random() * revisions.length)] as string;
    const start = Math.floor(random() * Math.max(1, source.length - kb * 1024));
    return source.slice(start, start + kb * 1024);
  });
}

function line(phase: string, latencies: number[], extra = "") {
  console.log(
    `${phase.padEnd(9)} /health p50 ${percentile(latencies, 0.5).toFixed(2).padStart(6)} ms  p99 ${percentile(latencies, 0.99).toFixed(2).padStart(6)} ms  ` +
      `max ${Math.max(...latencies)
        .toFixed(1)
        .padStart(6)} ms  (${latencies.length} probes)${extra}`,
  );
}

export async function runSearchHealthBench() {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-journal-load-"));
  const server = await startBenchServer(
    "bench/journal-load-server.ts",
    path.join(dir, "data"),
    (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean),
  );
  const call = httpClient(server.url, { token: server.token, timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    const bodies = texts(ENTRIES, ENTRY_KB);
    console.log(
      `${ENTRIES} entries of ${ENTRY_KB} KB (real prose), each analyzed and embedded by jobs; /health probed every ${PROBE_EVERY_MS} ms`,
    );
    line("idle", await probe(server.url, IDLE_SECONDS));

    const worker = new Worker(new URL("./health-probe.mjs", import.meta.url), {
      workerData: {
        url: `${server.url}/health`,
        seconds: 3_600,
        everyMs: PROBE_EVERY_MS,
        timeoutMs: REQUEST_TIMEOUT_MS,
        stamped: true,
      },
    });
    const samples = new Promise<{ latencies: number[]; at: number[] }>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
    const now = () => performance.timeOrigin + performance.now();
    const tasks: string[] = [];
    let lastId = "";
    const writeStart = now();
    for (const [i, content] of bodies.entries()) {
      const res = await call("POST", "/v1/journal/entries", { title: `Load ${i}`, content });
      if (res.status !== 201) throw new Error(`write: ${res.status} ${JSON.stringify(res.body)}`);
      tasks.push(res.body.analysisTaskId);
      lastId = res.body.id;
      if (WRITE_EVERY_MS > 0) await new Promise((resolve) => setTimeout(resolve, WRITE_EVERY_MS));
    }
    const written = now();
    for (;;) {
      const pending: string[] = [];
      for (const task of tasks) {
        const res = await call("GET", `/v1/journal/tasks/${task}`);
        if (res.body?.status !== "succeeded") pending.push(task);
      }
      tasks.splice(0, tasks.length, ...pending);
      const similar = await call("GET", `/v1/journal/entries/${lastId}/similar?minSimilarity=-1&limit=1`);
      if (tasks.length === 0 && similar.body?.items?.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const drained = now();
    worker.postMessage("stop");
    const { latencies, at } = await samples;
    await worker.terminate();
    const between = (from: number, to: number) =>
      latencies.filter((_, i) => (at[i] as number) >= from && (at[i] as number) < to);
    const writeSeconds = (written - writeStart) / 1000;
    line(
      "writing",
      between(writeStart, written),
      `  ${ENTRIES} entries in ${writeSeconds.toFixed(1)} s (${(ENTRIES / writeSeconds).toFixed(1)}/s)`,
    );
    line(
      "draining",
      between(written, drained),
      `  the work behind them done ${((drained - written) / 1000).toFixed(1)} s after the last write`,
    );
  } finally {
    server.child.kill("SIGTERM");
    await new Promise((resolve) => server.child.once("exit", resolve));
    await rm(dir, { recursive: true, force: true });
  }
}
