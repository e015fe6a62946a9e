import type { StrataModule } from "../runtime/module.ts";
import { chatModule } from "./chat/index.ts";
import { generationModule } from "./generation/index.ts";
import { journalModule } from "./journal/index.ts";
import { knowledgeModule } from "./knowledge/index.ts";
import { writingModule } from "./writing/index.ts";

/**
 * Every module Strata runs, in registration order. A module joins the
 * product by being listed here: its migrations, routes and workers follow.
 */
export const modules: StrataModule[] = [writingModule, generationModule, journalModule, chatModule, knowledgeModule];
