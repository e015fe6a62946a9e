/**
 * Worker-safe tasks for the compute pool's own tests: they show where they
 * ran and hold a thread for a given time.
 */
import { readlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { threadId } from "node:worker_threads";
import { defineComputeTask, siblingModule } from "./compute-task.ts";

/** Busy-waits `ms` milliseconds (blocking whichever thread runs it) and answers that thread's id. */
export function spin({ ms }: { ms: number }): { threadId: number } {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // burn CPU, as a real heavy task would
  }
  return { threadId };
}

/** The scheduling priority (nice value) of the thread that runs it, where the system tells. */
export function threadPriority(_input: { ms: number }): { nice: number | null } {
  try {
    const tid = Number(path.basename(readlinkSync("/proc/thread-self")));
    return { nice: os.getPriority(tid) };
  } catch {
    return { nice: null };
  }
}

export function fail(_input: { ms: number }): never {
  throw new Error("task failed on purpose");
}

const file = siblingModule(import.meta.url, "./test-tasks");

/** Runs inline when ms is 0, on the pool otherwise. */
export const spinTask = defineComputeTask<{ ms: number }, { threadId: number }>({
  name: "test.spin",
  file,
  exportName: "spin",
  run: spin,
  runsInline: ({ ms }) => ms === 0,
});

export const failTask = defineComputeTask<{ ms: number }, never>({
  name: "test.fail",
  file,
  exportName: "fail",
  run: fail,
  runsInline: () => false,
});

export const threadPriorityTask = defineComputeTask<{ ms: number }, { nice: number | null }>({
  name: "test.thread_priority",
  file,
  exportName: "threadPriority",
  run: threadPriority,
  runsInline: ({ ms }) => ms === 0,
});
