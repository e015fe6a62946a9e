import type { App } from "../../http/app.ts";
import type { Platform } from "../../runtime/platform.ts";
import { registerComponentRoutes } from "./component-routes.ts";
import { registerContextRoutes } from "./context-routes.ts";
import { registerPipelineRoutes } from "./pipeline-routes.ts";
import { registerTemplateRoutes } from "./template-routes.ts";
import { registerWorkerRoutes } from "./worker-routes.ts";

/**
 * The generation module's HTTP API (seed 001), under /v1/generation. Every
 * route needs an account and acts in the caller's organization: what it
 * names by id in another organization is not found (404), and so is any id
 * to an anonymous session; routes that name no resource answer an anonymous
 * session 403 account_required.
 */
export function registerGenerationRoutes(app: App, platform: Platform) {
  registerTemplateRoutes(app, platform);
  registerComponentRoutes(app, platform);
  registerPipelineRoutes(app, platform);
  registerContextRoutes(app, platform);
  registerWorkerRoutes(app, platform);
}
