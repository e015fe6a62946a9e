/**
 * Disk footprint of the embedded profile under a real edit history.
 *
 * Replays every revision of two real files (the-art-of-command-line's
 * README.md, 424 revisions, English, and README-zh.md, 117, Chinese), oldest
 * first, through the HTTP versions API of a server listening on a loopback
 * port, on the embedded profile with a fresh data directory: one document
 * per file, one explicit (major) save per revision. BENCH_DISK_ROUNDS
 * replays them that many times, as more documents.
 *
 * Two runs in the same process, on the same build:
 * - strata: as `npm start` runs it, with the storage hygiene's recurring
 *   job (VACUUM where dead tuples pass the threshold, then CHECKPOINT), its
 *   schedule shortened to every 2 s because the replay is much faster than
 *   people type;
 * - peer: the same server without the schedule, which is how the embedded
 *   profile behaved before it (PGlite runs no autovacuum and no
 *   checkpointer).
 *
 * Reported per run, by part: the data directory right after the replay; the
 * "live data", defined as the same directory after VACUUM FULL and
 * CHECKPOINT (every table rewritten without dead rows, WAL recycled down to
 * what Postgres keeps), which is the smallest directory that holds the same
 * data; and their ratio (goal: at most 2x). The empty baseline (the data
 * directory right after migrations and a checkpoint, before any document)
 * is printed too, and how much each directory grew over it. A fresh stock PGlite
 * directory (16 MB WAL segments, before this change) is measured for
 * comparison.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { sql } from "kysely";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { modules } from "../src/modules/index.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { DATA_DIR_PARTS, type DataDirSizes, measureDataDir } from "../src/platform/metrics/data-dir-size.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { startWorkers } from "../src/runtime/workers.ts";
import { httpClient } from "../test/support/http.ts";
import { readRealHistories } from "../test/support/real-histories.ts";

const ROUNDS = Number(process.env.BENCH_DISK_ROUNDS ?? 1);
// Every 2 seconds (croner's seconds field): the replay saves far faster than people type.
const HYGIENE_SCHEDULE = "*/2 * * * * *";

const total = (sizes: DataDirSizes) => DATA_DIR_PARTS.reduce((n, part) => n + sizes[part], 0);
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)}`;

interface RunResult {
  baseline: DataDirSizes;
  after: DataDirSizes;
  live: DataDirSizes;
  saves: number;
  saveMs: number[];
  hygieneRuns: number;
}

async function replay(history: Map<string, string[]>, withHygiene: boolean): Promise<RunResult> {
  const dir = await mkdtemp(path.join(tmpdir(), `strata-bench-disk-${withHygiene ? "strata" : "peer"}-`));
  const config = loadConfig({
    STRATA_DATA_DIR: dir,
    LOG_LEVEL: "silent",
    PORT: "0",
    HOST: "127.0.0.1",
    BODY_LIMIT_BYTES: String(8 * 1024 * 1024),
  });
  const platform = await openPlatform(config, { logger: createLogger("silent") });
  const layout = { root: dir, pg: path.join(dir, "pg"), blobs: path.join(dir, "blobs") };
  try {
    await createMigrator(platform.database, modules).up();
    await sql`checkpoint`.execute(platform.database.db);
    const baseline = await measureDataDir(layout);

    const app = await buildServer(platform, modules);
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    let hygieneRuns = 0;
    const stopWorkers = withHygiene
      ? await startWorkers(platform, modules, {
          storageHygiene: { schedule: HYGIENE_SCHEDULE, onRun: () => void hygieneRuns++ },
        })
      : async () => {};

    const post = async (url: string, token: string | null, body: unknown) => {
      const res = await httpClient(base, { token: token ?? undefined })("POST", url, body);
      if (res.status !== 201) throw new Error(`${url}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const registered = await post("/v1/auth/register", null, {
      email: "bench@example.com",
      password: "correct horse battery staple",
      name: "Bench",
    });
    const token = registered.accessToken as string;
    // The replay saves far faster than a person; lift this account's API limit out of the way.
    const { personal_organization_id: org } = await platform.database.db
      .selectFrom("users")
      .select("personal_organization_id")
      .where("id", "=", registered.user.id)
      .executeTakeFirstOrThrow();
    await sql`update organizations set settings = jsonb_set(settings, '{rate_limits}', '{"api": 1000000}')
      where id = ${org}`.execute(platform.database.db);
    await platform.identity.organizations.forgetLimits(org);

    const saveMs: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [file, revisions] of history) {
        const [first, ...rest] = revisions;
        const doc = await post("/v1/documents", token, { title: `${file} (${round})`, content: first });
        for (const content of rest) {
          const started = performance.now();
          await post(`/v1/documents/${doc.id}/versions`, token, { content });
          saveMs.push(performance.now() - started);
        }
      }
    }
    const saves = saveMs.length + history.size * ROUNDS;
    await app.close();
    await stopWorkers();
    const after = await measureDataDir(layout);

    await sql`vacuum full`.execute(platform.database.db);
    await sql`checkpoint`.execute(platform.database.db);
    const live = await measureDataDir(layout);
    return { baseline, after, live, saves, saveMs, hygieneRuns };
  } finally {
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function stockPGliteFresh(): Promise<DataDirSizes> {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-disk-stock-"));
  try {
    const pg = await PGlite.create(path.join(dir, "pg"));
    await pg.close();
    return await measureDataDir({ root: dir, pg: path.join(dir, "pg"), blobs: null });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

export async function runDiskBench() {
  const history = readRealHistories();
  const counts = [...history].map(([file, revisions]) => `${file} ${revisions.length}`).join(", ");
  console.log(
    `replaying ${counts} revisions${ROUNDS > 1 ? `, ${ROUNDS} times` : ""}, through POST /v1/documents/:id/versions`,
  );
  const strata = await replay(history, true);
  const peer = await replay(history, false);
  const stock = await stockPGliteFresh();

  const header = `${"MiB".padEnd(52)}${DATA_DIR_PARTS.map((p) => p.padStart(9)).join("")}${"total".padStart(9)}`;
  const row = (label: string, sizes: DataDirSizes) =>
    `${label.padEnd(52)}${DATA_DIR_PARTS.map((p) => mib(sizes[p]).padStart(9)).join("")}${mib(total(sizes)).padStart(9)}`;
  console.log(header);
  console.log(row("fresh stock PGlite (no Strata)", stock));
  console.log(row("empty baseline (migrated)", strata.baseline));
  for (const [name, result] of [
    ["strata", strata],
    ["peer (no hygiene)", peer],
  ] as const) {
    console.log(row(`${name}: after replay`, result.after));
    console.log(row(`${name}: live (VACUUM FULL + CHECKPOINT)`, result.live));
  }
  console.log("");
  console.log(
    `${"".padEnd(22)}${"dir / live".padStart(12)}${"grew since empty".padStart(18)}${"save p50".padStart(10)}${"save p99".padStart(10)}`,
  );
  for (const [name, result] of [
    ["strata", strata],
    ["peer (no hygiene)", peer],
  ] as const) {
    const ratio = total(result.after) / total(result.live);
    // Growth as a difference, not a ratio: VACUUM FULL can leave the live
    // directory smaller than the empty baseline (which was never compacted).
    const grew = (total(result.after) - total(result.baseline)) / 2 ** 20;
    console.log(
      `${name.padEnd(22)}${`${ratio.toFixed(2)}x`.padStart(12)}${`${grew.toFixed(1)} MiB`.padStart(18)}${`${percentile(result.saveMs, 0.5).toFixed(1)} ms`.padStart(10)}${`${percentile(result.saveMs, 0.99).toFixed(1)} ms`.padStart(10)}`,
    );
  }
  console.log(
    `goal: data directory at most 2x the live data (strata ${(total(strata.after) / total(strata.live)).toFixed(2)}x); ` +
      `${strata.saves} saves per run; ${strata.hygieneRuns} hygiene runs (every 2 s, "${HYGIENE_SCHEDULE}") during the strata replay`,
  );
}
