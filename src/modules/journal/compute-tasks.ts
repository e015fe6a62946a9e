import { defineComputeTask, siblingModule } from "../../platform/compute/compute-task.ts";
import { analyzeText, type TextAnalysis } from "./text-analysis.ts";

/** Up to this many characters VADER takes a few milliseconds; longer entries go to the compute pool. */
const ANALYSIS_INLINE_MAX_CHARS = 8 * 1024;

export const textAnalysisTask = defineComputeTask<string, TextAnalysis>({
  name: "journal.text_analysis",
  file: siblingModule(import.meta.url, "./text-analysis"),
  exportName: "analyzeText",
  run: analyzeText,
  runsInline: (text) => text.length <= ANALYSIS_INLINE_MAX_CHARS,
});
