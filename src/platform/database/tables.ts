/**
 * The typed schema every Kysely query is checked against. It starts empty:
 * each module adds its tables by augmenting this interface from its own
 * `tables.ts`, so the platform never has to import a module:
 *
 *   declare module "../../platform/database/tables.ts" {
 *     interface Tables { documents: DocumentsTable }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: augmented by each module's tables.ts
export interface Tables {}
