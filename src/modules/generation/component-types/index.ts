import type { ComponentType } from "../tables.ts";
import { aiGeneratorComponent } from "./ai-generator.ts";
import type { ComponentPlugin } from "./plugin.ts";
import { templateComponent } from "./template.ts";
import { transformerComponent } from "./transformer.ts";

/** Every component type's plug-in, by type: a new type is its own file, listed here. */
export const componentPlugins: Readonly<Record<ComponentType, ComponentPlugin>> = {
  template: templateComponent,
  ai_generator: aiGeneratorComponent,
  transformer: transformerComponent,
};
