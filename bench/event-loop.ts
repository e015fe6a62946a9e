/**
 * Does the event loop keep serving while clients run heavy diffs and saves?
 *
 * An embedded Strata server runs in its own process (bench/event-loop-server.ts:
 * port 0 on loopback, PGlite in a temporary data directory). A 40 KB document
 * gets BENCH_VERSIONS versions (default 30): real revisions of a real file's
 * history (../shared/data/histories), far apart from each other. Then, in
 * one run, phases of the same length (BENCH_SECONDS, default 15):
 *   idle          nothing but the probe: the floor (/health on an idle server);
 *   strata diffs  BENCH_DIFF_CLIENTS clients (default 3) diff random
 *                 far-apart pairs through GET /v1/documents/:id/diff, back
 *                 to back;
 *   old diffs     the same, with the diffs computed as before the compute
 *                 pool (diff-match-patch, synchronously on the event loop);
 *   saves alone   BENCH_SAVE_CLIENTS clients (default 1) save small edits of
 *                 the document, back to back;
 *   strata/old diffs + saves  both loads at once.
 * Throughout, a probe calls GET /health every 20 ms and records its latency,
 * from a worker thread of its own (health-probe.mjs), so the load clients'
 * work in this process is not counted as the server's.
 * Reported per phase: /health p50, p99 and max; diffs and saves served, and
 * their p99; and the server's own event-loop delay (its /metrics window).
 * Goal: /health p99 <= 20 ms under the strata load.
 */
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { httpClient } from "../test/support/http.ts";
import { readRealHistory } from "../test/support/real-histories.ts";
import { startBenchServer } from "./bench-server.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 30);
const DIFF_CLIENTS = Number(process.env.BENCH_DIFF_CLIENTS ?? 3);
const SAVE_CLIENTS = Number(process.env.BENCH_SAVE_CLIENTS ?? 1);
const PROBE_EVERY_MS = 20;
const REQUEST_TIMEOUT_MS = 60_000;

type Phase = { diffs: "none" | "strata" | "old"; saves: boolean };

interface PhaseResult {
  health: number[];
  diffs: number[];
  busy: number;
  saves: number[];
  loopP99: number;
  loopMax: number;
}

function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Evenly spaced revisions of README.md from the later part of its history, where it is 30-40 KB. */
function revisions(count: number): string[] {
  const all = readRealHistory("README.md");
  const first = Math.floor(all.length * 0.4);
  const step = (all.length - 1 - first) / (count - 1);
  return Array.from({ length: count }, (_, i) => all[Math.round(first + i * step)] as string);
}

function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

export async function runEventLoopBench() {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-event-loop-"));
  const server = await startBenchServer(
    "bench/event-loop-server.ts",
    path.join(dir, "data"),
    (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean),
  );
  const call = httpClient(server.url, { token: server.token, timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    const texts = revisions(VERSIONS);
    const created = await call("POST", "/v1/documents", { title: "Event loop", content: texts[0] });
    if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`);
    const docId = created.body.id as string;
    for (const text of texts.slice(1)) {
      const saved = await call("POST", `/v1/documents/${docId}/versions`, { content: text });
      if (saved.status !== 201) throw new Error(`save: ${saved.status}`);
    }
    const sizes = texts.map((t) => Buffer.byteLength(t));
    console.log(
      `a document of ${(Math.min(...sizes) / 1024).toFixed(0)}-${(Math.max(...sizes) / 1024).toFixed(0)} KB with ${VERSIONS} far-apart real revisions; ` +
        `${DIFF_CLIENTS} diff clients + ${SAVE_CLIENTS} save client(s), ${SECONDS} s per phase, /health probed every ${PROBE_EVERY_MS} ms`,
    );

    const random = generator(17);
    let current = texts.at(-1) as string;
    const runPhase = async (phase: Phase): Promise<PhaseResult> => {
      const result: PhaseResult = { health: [], diffs: [], busy: 0, saves: [], loopP99: 0, loopMax: 0 };
      const deadline = performance.now() + SECONDS * 1000;
      // In a worker thread of its own (health-probe.mjs), so the load clients' work here is not counted.
      const probe = async () => {
        const worker = new Worker(new URL("./health-probe.mjs", import.meta.url), {
          workerData: {
            url: `${server.url}/health`,
            seconds: SECONDS,
            everyMs: PROBE_EVERY_MS,
            timeoutMs: REQUEST_TIMEOUT_MS,
          },
        });
        const [latencies] = (await once(worker, "message")) as [number[]];
        result.health.push(...latencies);
        await worker.terminate();
      };
      const differ = async () => {
        while (performance.now() < deadline) {
          // Far apart: at least a third of the history between the two.
          const from = 1 + Math.floor(random() * Math.floor((VERSIONS * 2) / 3));
          const to = Math.min(VERSIONS, from + Math.ceil(VERSIONS / 3) + Math.floor(random() * (VERSIONS / 3)));
          const url =
            phase.diffs === "old"
              ? `/bench/dmp-diff/${docId}?from=${from}&to=${to}`
              : `/v1/documents/${docId}/diff?from=${from}&to=${to}`;
          const t = performance.now();
          const res = await call("GET", url);
          if (res.status === 200) result.diffs.push(performance.now() - t);
          else if (res.status === 503) {
            result.busy++;
            await new Promise((resolve) => setTimeout(resolve, 100));
          } else throw new Error(`diff: ${res.status} ${JSON.stringify(res.body)}`);
        }
      };
      const saver = async () => {
        while (performance.now() < deadline) {
          const at = Math.floor(random() * current.length);
          current = `${current.slice(0, at)} an edit ${current.slice(at)}`;
          const t = performance.now();
          const res = await call("POST", `/v1/documents/${docId}/versions`, { content: current, kind: "minor" });
          if (res.status !== 201) throw new Error(`save: ${res.status} ${JSON.stringify(res.body)}`);
          result.saves.push(performance.now() - t);
        }
      };
      const clients = [
        probe(),
        ...(phase.saves ? Array.from({ length: SAVE_CLIENTS }, saver) : []),
        ...(phase.diffs === "none" ? [] : Array.from({ length: DIFF_CLIENTS }, differ)),
      ];
      await Promise.all(clients);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const quantile = (q: string) =>
        Number(
          new RegExp(`^strata_event_loop_delay_window_seconds\\{quantile="${q}"\\} (\\S+)$`, "m").exec(metrics)?.[1],
        ) * 1000;
      result.loopP99 = quantile("0.99");
      result.loopMax = quantile("1");
      return result;
    };

    const results: [string, PhaseResult][] = [];
    results.push(["idle server (floor)", await runPhase({ diffs: "none", saves: false })]);
    results.push(["strata diffs", await runPhase({ diffs: "strata", saves: false })]);
    results.push(["old diffs (in the loop)", await runPhase({ diffs: "old", saves: false })]);
    results.push(["saves alone", await runPhase({ diffs: "none", saves: true })]);
    results.push(["strata diffs + saves", await runPhase({ diffs: "strata", saves: true })]);
    results.push(["old diffs + saves", await runPhase({ diffs: "old", saves: true })]);

    const ms = (n: number) => (Number.isNaN(n) ? "-" : `${n.toFixed(1)} ms`);
    console.log(
      `${"".padEnd(36)}${"health p50".padStart(11)}${"p99".padStart(10)}${"max".padStart(10)}` +
        `${"diffs".padStart(7)}${"503s".padStart(6)}${"diff p99".padStart(11)}${"saves".padStart(7)}${"save p99".padStart(11)}`,
    );
    for (const [name, r] of results) {
      console.log(
        `${name.padEnd(36)}${ms(percentile(r.health, 0.5)).padStart(11)}${ms(percentile(r.health, 0.99)).padStart(10)}` +
          `${ms(Math.max(...r.health)).padStart(10)}${String(r.diffs.length).padStart(7)}${String(r.busy).padStart(6)}` +
          `${ms(percentile(r.diffs, 0.99)).padStart(11)}${String(r.saves.length).padStart(7)}${ms(percentile(r.saves, 0.99)).padStart(11)}`,
      );
    }
    const strata = results[4]?.[1] as PhaseResult;
    console.log(
      `goal: /health p99 <= 20 ms while clients run heavy diffs and saves; strata ${ms(percentile(strata.health, 0.99))}`,
    );
    console.log(
      "the server's own event-loop delay (its /metrics, last 60 s, so each figure includes the phase before): " +
        results.map(([name, r]) => `${name}: p99 ${ms(r.loopP99)}, max ${ms(r.loopMax)}`).join("; "),
    );
  } finally {
    server.child.kill("SIGTERM");
    await Promise.race([once(server.child, "exit"), new Promise((resolve) => setTimeout(resolve, 10_000))]);
    if (server.child.exitCode === null) server.child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}
