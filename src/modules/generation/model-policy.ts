import { errors } from "../../platform/errors/catalog.ts";
import type { OrganizationSettings } from "../../platform/identity/organization-service.ts";

/**
 * Refuses a model the organization's allowed_models does not list (no list:
 * any model). `field` is where the request named it, for the error.
 */
export function assertModelAllowed(settings: OrganizationSettings, model: unknown, field?: string): void {
  if (settings.allowedModels === null) return;
  if (typeof model !== "string" || !settings.allowedModels.includes(model)) {
    throw errors.modelNotAllowed(String(model), settings.allowedModels, field);
  }
}
