import type { Generated } from "kysely";
import type { Json, Timestamp } from "../database/column-types.ts";
import type { Audience } from "./change.ts";

/** The change feed's outbox (migration 6): changes written with the transaction that made them, until relayed. */
export interface ChangeOutboxTable {
  id: Generated<string>;
  topic: string;
  subject: string;
  event: string;
  audience: Json<Audience>;
  data: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

declare module "../database/tables.ts" {
  interface Tables {
    change_outbox: ChangeOutboxTable;
  }
}
