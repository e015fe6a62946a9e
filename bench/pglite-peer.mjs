// The startup benchmark's peer: bare PGlite with Strata's extensions opening
// a data directory (fresh or existing), in a process of its own so that its
// time and resident memory are measured the way Strata's are.
// Usage: node bench/pglite-peer.mjs <dataDir> <idleSeconds>
// Prints one JSON line when open ({"ready": ms}) and one after idling ({"rss": bytes}).
import { PGlite } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { vector } from "@electric-sql/pglite-pgvector";

const [dataDir, idleSeconds] = process.argv.slice(2);
const started = performance.now();
const pg = await PGlite.create(dataDir, { extensions: { vector, pg_trgm } });
await pg.exec("create extension if not exists vector; create extension if not exists pg_trgm");
process.stdout.write(`${JSON.stringify({ ready: performance.now() - started })}\n`);
await new Promise((resolve) => setTimeout(resolve, Number(idleSeconds) * 1000));
process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage.rss() })}\n`);
await pg.close();
