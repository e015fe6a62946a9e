// The event-loop benchmark's /health probe, in a worker thread of its own:
// on the benchmark's main thread it would share an event loop with the diff
// and save clients, and their work (parsing large diffs, building request
// bodies) would be counted as the server's latency.
import { parentPort, workerData } from "node:worker_threads";

const { url, seconds, everyMs, timeoutMs } = workerData;
const latencies = [];
const deadline = performance.now() + seconds * 1000;
while (performance.now() < deadline) {
  const t = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await res.arrayBuffer();
  latencies.push(performance.now() - t);
  await new Promise((resolve) => setTimeout(resolve, everyMs));
}
parentPort.postMessage(latencies);
