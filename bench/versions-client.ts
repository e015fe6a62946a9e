/**
 * The versions benchmark's client, in a worker thread of its own: its
 * request bodies, response parsing and checks run beside the server's event
 * loop, not on it, as a real client's would, and what the server does after
 * a response has gone out (indexing, for one) is not counted in that
 * response's time. The main thread (versions.ts) runs the server; it empties
 * the server's delta base cache when asked, before each cold read.
 */
import { createHash } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { httpClient } from "../test/support/http.ts";

export interface ReplayRequest {
  type: "replay";
  name: string;
  revisions: string[];
  seed: number;
  restores: number;
}

export interface ReplayResult {
  type: "replayed";
  documentId: string;
  saves: number[];
  reads: number[];
  cold: number[];
  restores: number[];
  stored: number;
  afterRestores: number;
}

const port = parentPort;
if (!port) throw new Error("versions-client runs in a worker thread");
const { base, token } = workerData as { base: string; token: string };
const http = httpClient(base, { token });
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

async function call(method: string, url: string, body?: unknown) {
  const res = await http(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Asks the server's thread to empty its delta base cache, and waits until it has. */
function forget(): Promise<void> {
  return new Promise((resolve) => {
    port?.once("message", () => resolve());
    port?.postMessage({ type: "forget" });
  });
}

async function timed<T>(samples: number[], run: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const result = await run();
  samples.push(performance.now() - t);
  return result;
}

async function replay({ name, revisions, seed, restores: restoreCount }: ReplayRequest): Promise<ReplayResult> {
  const random = generator(seed);
  const doc = await call("POST", "/v1/documents", { title: name, content: revisions[0] });
  const saves: number[] = [];
  for (const content of revisions.slice(1)) {
    await timed(saves, () => call("POST", `/v1/documents/${doc.id}/versions`, { content }));
  }
  const stored = (await call("GET", `/v1/documents/${doc.id}`)).history.storedBytes as number;
  const check = (v: { content: string }, n: number) => {
    if (sha(v.content) !== sha(revisions[n - 1] as string)) throw new Error(`version ${n} differs`);
  };
  // Every version, in random order, byte for byte.
  const order = revisions.map((_, i) => i + 1).sort(() => random() - 0.5);
  const reads: number[] = [];
  for (const n of order) check(await timed(reads, () => call("GET", `/v1/documents/${doc.id}/versions/${n}`)), n);
  // Again, each with the delta base cache emptied first: every chain read down to its keyframe.
  const cold: number[] = [];
  for (const n of order.slice(0, 100)) {
    await forget();
    check(await timed(cold, () => call("GET", `/v1/documents/${doc.id}/versions/${n}`)), n);
  }
  const restores: number[] = [];
  const restored: [number, number][] = [];
  for (let i = 0; i < restoreCount; i++) {
    const n = 1 + Math.floor(random() * revisions.length);
    const v = await timed(restores, () => call("POST", `/v1/documents/${doc.id}/versions/${n}/restore`));
    restored.push([v.number, n]);
  }
  const afterRestores = (await call("GET", `/v1/documents/${doc.id}`)).history.storedBytes as number;
  for (const [number, from] of restored) check(await call("GET", `/v1/documents/${doc.id}/versions/${number}`), from);
  return { type: "replayed", documentId: doc.id, saves, reads, cold, restores, stored, afterRestores };
}

port.on("message", (message: ReplayRequest | { type: "forgotten" }) => {
  if (message.type !== "replay") return;
  replay(message).then(
    (result) => port.postMessage(result),
    (error: Error) => port.postMessage({ type: "failed", message: error.stack ?? error.message }),
  );
});
