import { databaseContract } from "../../../test/contract/database.contract.ts";
import { openDatabase } from "./database.ts";

databaseContract("PGlite", () => openDatabase({ driver: "pglite", dataDir: null, statementTimeoutMs: 10_000 }));
