/**
 * Benchmarks, run with `npm run bench [name...]`. Each prints Strata's figure
 * beside the peer it is compared with, measured in the same run on the same
 * machine. They are measurements, not tests: nothing here fails on a number.
 */

import { runChangesFanoutBench } from "./changes-fanout.ts";
import { runChatFilesBench } from "./chat-files.ts";
import { runDiskBench } from "./disk.ts";
import { runEventLoopBench } from "./event-loop.ts";
import { runJobsBench } from "./jobs.ts";
import { runKnowledgeCacheBench, runKnowledgeSearchBench } from "./knowledge.ts";
import { runRateLimitBench } from "./rate-limit.ts";
import { runRequestPathBench } from "./request-path.ts";
import { runSearchBench } from "./search.ts";
import { runSearchHealthBench } from "./search-health.ts";
import { runStartupBench } from "./startup.ts";
import { runVersionsBench } from "./versions.ts";

const benches: Record<string, () => Promise<void>> = {
  startup: runStartupBench,
  "rate-limit": runRateLimitBench,
  "request-path": runRequestPathBench,
  versions: runVersionsBench,
  "event-loop": runEventLoopBench,
  disk: runDiskBench,
  jobs: runJobsBench,
  search: runSearchBench,
  "search-health": runSearchHealthBench,
  "chat-files": runChatFilesBench,
  "changes-fanout": runChangesFanoutBench,
  "knowledge-cache": runKnowledgeCacheBench,
  "knowledge-search": runKnowledgeSearchBench,
};

const chosen = process.argv.slice(2);
for (const name of chosen.length > 0 ? chosen : Object.keys(benches)) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark ${name}; choose from ${Object.keys(benches).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n# ${name}`);
  await bench();
}
