import { defineComputeTask, siblingModule } from "../../platform/compute/compute-task.ts";
import { analyzeText, type TextAnalysis } from "./text-analysis.ts";

/**
 * The analysis (VADER per sentence, emotions, keywords) costs about 1.3 ms
 * per KB: up to 2 KB (under 3 ms) it runs on the event loop, where a thread
 * hop would cost as much; longer entries go to the compute pool (at 8 KB
 * inline it held the loop 10 ms per entry, and /health waited behind it).
 */
const ANALYSIS_INLINE_MAX_CHARS = 2 * 1024;

export const textAnalysisTask = defineComputeTask<string, TextAnalysis>({
  name: "journal.text_analysis",
  file: siblingModule(import.meta.url, "./text-analysis"),
  exportName: "analyzeText",
  run: analyzeText,
  runsInline: (text) => text.length <= ANALYSIS_INLINE_MAX_CHARS,
});
