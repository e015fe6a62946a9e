/**
 * Differential version storage (src/modules/writing/delta.ts) against
 * storing every version as a full copy, in the same run on the same stores.
 *
 * A 20 KB document gets 1,000 versions, each a small edit (a few words
 * inserted, replaced or deleted at a random place, from a seeded generator).
 * Strata stores them through saveVersion on the embedded profile (PGlite and
 * the filesystem blob store); the peer writes each full version as its own
 * blob. Reported: bytes stored, and the time to restore (read back) 200
 * randomly chosen versions, mean and p99.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { loadConfig } from "../src/config/config.ts";
import { writingModule } from "../src/modules/writing/index.ts";
import { readText, readVersionContent, saveVersion } from "../src/modules/writing/version-store.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";

const VERSIONS = Number(process.env.BENCH_VERSIONS ?? 1000);
const RESTORES = 200;

function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const WORDS = "data layer version history small edit writing clarity model answer review draft note".split(" ");

function document20k(random: () => number): string {
  const words: string[] = [];
  while (words.join(" ").length < 20_000) words.push(WORDS[Math.floor(random() * WORDS.length)] as string);
  return words.join(" ").slice(0, 20_000);
}

function edit(text: string, random: () => number): string {
  const at = Math.floor(random() * text.length);
  const phrase = `${WORDS[Math.floor(random() * WORDS.length)]} ${WORDS[Math.floor(random() * WORDS.length)]}`;
  const kind = random();
  if (kind < 0.4) return `${text.slice(0, at)}${phrase} ${text.slice(at)}`;
  if (kind < 0.8) return `${text.slice(0, at)}${phrase}${text.slice(at + phrase.length)}`;
  return text.slice(0, at) + text.slice(at + 12);
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    p99: sorted[Math.floor(sorted.length * 0.99)] as number,
  };
}

export async function runVersionsBench() {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-versions-"));
  const config = loadConfig({ STRATA_DATA_DIR: dir, LOG_LEVEL: "silent" });
  const platform = await openPlatform(
    { ...config, database: { ...config.database, dataDir: null } as typeof config.database },
    {
      logger: createLogger("silent"),
    },
  );
  try {
    await createMigrator(platform.database, [writingModule]).up();
    const db = platform.database.db;
    const random = generator(42);
    await sql`insert into users (id, email, password_hash, name, personal_organization_id)
      values ('00000000-0000-4000-8000-000000000001', 'bench@example.com', 'x', 'Bench', '00000000-0000-7000-8000-000000000000')`.execute(
      db,
    );
    const docId = "00000000-0000-4000-8000-0000000000d0";
    await db
      .insertInto("documents")
      .values({
        id: docId,
        user_id: "00000000-0000-4000-8000-000000000001",
        organization_id: "00000000-0000-7000-8000-000000000000",
        title: "Bench",
        content_key: `documents/00000000-0000-4000-8000-000000000001/${docId}`,
      })
      .execute();
    const doc = await db.selectFrom("documents").selectAll().where("id", "=", docId).executeTakeFirstOrThrow();
    const author = { userId: "00000000-0000-4000-8000-000000000001", sessionId: null };

    let text = document20k(random);
    const contents: string[] = [];
    let fullBytes = 0;
    const started = performance.now();
    for (let i = 0; i < VERSIONS; i++) {
      if (i > 0) text = edit(text, random);
      contents.push(text);
      await saveVersion(db, platform.blobs, doc, { content: text, kind: "major", author });
      // The peer: every version as a full copy.
      await platform.blobs.put(`bench-full/${i + 1}`, text);
      fullBytes += Buffer.byteLength(text);
    }
    const saveSeconds = (performance.now() - started) / 1000;
    const rows = await db.selectFrom("document_versions").selectAll().where("document_id", "=", docId).execute();
    const storedBytes = rows.reduce((n, r) => n + r.stored_size, 0);
    const snapshots = rows.filter((r) => r.storage === "snapshot").length;
    const byNumber = new Map(rows.map((r) => [r.version_number, r]));

    const picks = Array.from({ length: RESTORES }, () => 1 + Math.floor(random() * VERSIONS));
    const strataTimes: number[] = [];
    for (const n of picks) {
      const t = performance.now();
      const content = await readVersionContent(db, platform.blobs, byNumber.get(n) as (typeof rows)[number]);
      strataTimes.push(performance.now() - t);
      if (content !== contents[n - 1]) throw new Error(`version ${n} did not restore exactly`);
    }
    const fullTimes: number[] = [];
    for (const n of picks) {
      const t = performance.now();
      const content = await readText(platform.blobs, `bench-full/${n}`);
      fullTimes.push(performance.now() - t);
      if (content !== contents[n - 1]) throw new Error(`full copy ${n} is wrong`);
    }
    const s = stats(strataTimes);
    const f = stats(fullTimes);
    const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    console.log(
      `${VERSIONS} versions of a ${(Buffer.byteLength(contents[0] as string) / 1024).toFixed(1)} KiB document, small edits; saved in ${saveSeconds.toFixed(1)} s`,
    );
    console.log(`${"".padEnd(34)}${"stored".padStart(12)}${"restore mean".padStart(14)}${"restore p99".padStart(13)}`);
    console.log(
      `${"strata (patches vs snapshots)".padEnd(34)}${kb(storedBytes).padStart(12)}${`${s.mean.toFixed(2)} ms`.padStart(14)}${`${s.p99.toFixed(2)} ms`.padStart(13)}`,
    );
    console.log(
      `${"full copy of every version".padEnd(34)}${kb(fullBytes).padStart(12)}${`${f.mean.toFixed(2)} ms`.padStart(14)}${`${f.p99.toFixed(2)} ms`.padStart(13)}`,
    );
    console.log(
      `stored bytes: ${((storedBytes / fullBytes) * 100).toFixed(1)}% of full copies (${snapshots} snapshots, ${rows.length - snapshots} patches); every restored version was checked byte for byte`,
    );
  } finally {
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
}
