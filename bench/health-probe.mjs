// The benchmarks' /health probe, in a worker thread of its own: on the
// benchmark's main thread it would share an event loop with the load
// clients, and their work (parsing large diffs, building request bodies)
// would be counted as the server's latency.
// Runs for `seconds`, or until the parent posts "stop". Posts the latencies
// (ms); with `stamped`, { latencies, at } where at[i] is when probe i began
// (performance.timeOrigin-based, comparable across threads).
import { parentPort, workerData } from "node:worker_threads";

const { url, seconds, everyMs, timeoutMs, stamped } = workerData;
const latencies = [];
const at = [];
let stopped = false;
parentPort.on("message", (message) => {
  if (message === "stop") stopped = true;
});
const deadline = performance.now() + seconds * 1000;
while (!stopped && performance.now() < deadline) {
  const t = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  latencies.push(performance.now() - t);
  at.push(performance.timeOrigin + t);
  await new Promise((resolve) => setTimeout(resolve, everyMs));
}
parentPort.postMessage(stamped ? { latencies, at } : latencies);
parentPort.close();
