/**
 * WebSocket fan-out of the change feed: messages per second delivered to
 * 1,000 subscribers of one topic, Strata's /v1/changes beside a bare `ws`
 * broadcast server (the peer: the same library and frames, none of the
 * feed's work). Each server runs in its own process; the subscribers share
 * this one. Strata's figure counts the whole path: changes recorded in
 * transactions, relayed to the history, announced on the key-value
 * channel, checked per subscriber and written. /health is sampled while
 * the changes flow. Goal: at least 100,000 deliveries per second.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { percentile } from "./search-corpus.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const SUBSCRIBERS = 1_000;
const WARM_UP = 200;
const CHANGES = Number(process.env.FANOUT_CHANGES ?? 2_000);

interface Server {
  child: ChildProcess;
  base: string;
  token: string;
  lines: AsyncIterator<string>;
}

async function start(args: string[]): Promise<Server> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { port, token } = JSON.parse(first.value as string) as { port: number; token: string };
  return { child, base: `127.0.0.1:${port}`, token, lines };
}

async function subscribers(server: Server, count: number) {
  const counts = new Int32Array(count);
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i += 100) {
    await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, async (_, j) => {
        const n = i + j;
        const url = server.token ? `ws://${server.base}/v1/changes` : `ws://${server.base}`;
        const socket = new WebSocket(url, { headers: server.token ? { authorization: `Bearer ${server.token}` } : {} });
        await new Promise<void>((resolve, reject) => {
          socket.once("open", () => resolve());
          socket.once("error", reject);
        });
        await new Promise<void>((resolve) => {
          socket.once("message", () => resolve());
          socket.send(JSON.stringify({ type: "subscribe", topics: ["knowledge"] }));
        });
        // Counted, not parsed: the subscribers must not be the bottleneck.
        socket.on("message", (data: Buffer) => {
          if (data[2] === 0x74 && data[9] === 0x63) counts[n] = (counts[n] as number) + 1; // {"type":"change"
        });
        sockets.push(socket);
      }),
    );
  }
  return { counts, sockets };
}

/** Sends `go n` and resolves with the seconds until every subscriber has n more changes. */
async function round(server: Server, counts: Int32Array, n: number, probe?: () => void): Promise<number> {
  const target = Array.from(counts, (c) => c + n);
  const started = performance.now();
  server.child.stdin?.write(`go ${n}\n`);
  for (;;) {
    probe?.();
    if (target.every((t, i) => (counts[i] as number) >= t)) return (performance.now() - started) / 1000;
    if (performance.now() - started > 180_000) throw new Error("subscribers did not receive every change in 3 minutes");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function measure(name: string, server: Server, withHealth: boolean) {
  const { counts, sockets } = await subscribers(server, SUBSCRIBERS);
  await round(server, counts, WARM_UP);
  await server.lines.next();
  const latencies: number[] = [];
  let probing = false;
  const probe = () => {
    if (!withHealth || probing) return;
    probing = true;
    const sent = performance.now();
    void fetch(`http://${server.base}/health`)
      .then((r) => r.text())
      .then(() => latencies.push(performance.now() - sent))
      .catch((error) => console.error(`  /health probe failed: ${error}`))
      .finally(() => {
        probing = false;
      });
  };
  const seconds = await round(server, counts, CHANGES, probe);
  await server.lines.next();
  const rate = (CHANGES * SUBSCRIBERS) / seconds;
  const health = withHealth
    ? `; /health p50 ${percentile(latencies, 0.5).toFixed(1)} ms, p99 ${percentile(latencies, 0.99).toFixed(1)} ms (${latencies.length} probes)`
    : "";
  console.log(
    `  ${name.padEnd(34)} ${CHANGES} changes x ${SUBSCRIBERS} subscribers in ${seconds.toFixed(2)} s: ${Math.round(rate).toLocaleString("en")} deliveries/s${health}`,
  );
  for (const socket of sockets) socket.terminate();
}

export async function runChangesFanoutBench() {
  console.log(
    `  goal: >= 100,000 deliveries/s to ${SUBSCRIBERS.toLocaleString("en")} subscribers (development machine, 2 cores)`,
  );
  const dataDir = await mkdtemp(path.join(tmpdir(), "strata-fanout-"));
  const strata = await start(["--import", "tsx", "bench/changes-fanout-server.ts", dataDir]);
  try {
    await measure("Strata /v1/changes (embedded)", strata, true);
  } finally {
    strata.child.kill("SIGTERM");
    await rm(dataDir, { recursive: true, force: true });
  }
  const peer = await start(["--import", "tsx", "bench/changes-fanout-peer.ts"]);
  try {
    await measure("peer: bare ws broadcast", peer, false);
  } finally {
    peer.child.kill("SIGTERM");
  }
}
