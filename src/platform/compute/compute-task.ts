import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A pure, CPU-bound function the compute pool can run on a worker thread or
 * inline. Its module file must be worker-safe: no platform imports, no
 * connections, no module-level state that matters; only its input (copied by
 * structured clone) and its output (copied back) cross the thread boundary.
 */
export interface ComputeTask<Input, Output> {
  /** Stable name for metrics and logs, e.g. `writing.display_diff`. */
  readonly name: string;
  /** Absolute path of the worker-safe module holding the function. */
  readonly file: string;
  /** The export of `file` that runs the task. */
  readonly exportName: string;
  /** The same function, for inline runs in the calling thread. */
  readonly run: (input: Input) => Output;
  /**
   * True when an input is so small that a thread hop (structured clone both
   * ways plus a message round trip) costs more than doing the work inline.
   */
  readonly runsInline: (input: Input) => boolean;
}

export function defineComputeTask<Input, Output>(task: ComputeTask<Input, Output>): ComputeTask<Input, Output> {
  return Object.freeze({ ...task });
}

/**
 * The path of a module next to the caller, named without its extension, e.g.
 * `siblingModule(import.meta.url, "./display-diff")`. It takes the caller's own
 * extension, so the same code finds `display-diff.ts` when run from source
 * (under tsx, where the worker thread inherits the loader) and
 * `display-diff.js` when run compiled file for file.
 */
export function siblingModule(callerUrl: string, relativeName: string): string {
  const callerPath = fileURLToPath(callerUrl);
  return path.resolve(path.dirname(callerPath), `${relativeName}${path.extname(callerPath)}`);
}
