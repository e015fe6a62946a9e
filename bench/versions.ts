/**
 * Version storage (src/modules/writing: content objects, Fossil deltas and
 * keyframes, Brotli) replaying real and generated edit histories through the
 * versions API over HTTP, on the embedded profile (PGlite, in memory as in
 * the tests; the filesystem blob store on disk), beside git's own pack of the same revisions.
 *
 * Histories:
 * - the real ones in ../shared/data/histories (every revision of a file from
 *   a public git repository; its README gives git's pack size, and the same
 *   revisions are packed again here with `git pack-objects`, in this run);
 * - a generated one: a 20 KB document in mixed scripts with BENCH_VERSIONS
 *   (default 600) small edits from a seeded generator.
 * The client runs in a worker thread (versions-client.ts), so its own work
 * and the server's work after a response are not counted in the server's
 * times. Each history is saved version by version (POST .../versions), then every
 * version is read back in random order and compared byte for byte, and
 * BENCH_RESTORES (default 100) random versions are restored as new ones.
 * Reported per history: stored bytes (the document's history.storedBytes)
 * against git's pack and the full copies; save, read and restore p50/p99.
 * Goals: stored <= git's pack; save p99 <= 50 ms; read and restore p99 <= 20 ms.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { sql } from "kysely";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { forgetObjectContents } from "../src/modules/writing/content-objects.ts";
import { writingModule } from "../src/modules/writing/index.ts";
import { applyDelta, encodeObject, makeDelta } from "../src/modules/writing/object-codec.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { httpClient } from "../test/support/http.ts";
import { REAL_HISTORIES_DIR, readRealHistories } from "../test/support/real-histories.ts";
import type { ReplayRequest, ReplayResult } from "./versions-client.ts";

const _repoRoot = path.resolve(import.meta.dirname, "..");
const GENERATED_VERSIONS = Number(process.env.BENCH_VERSIONS ?? 600);
const RESTORES = Number(process.env.BENCH_RESTORES ?? 100);

interface History {
  name: string;
  revisions: string[];
  /** Git's pack size as the data set's README gives it, if it does. */
  readmePack: number | null;
}

function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function realHistories(): History[] {
  if (!existsSync(REAL_HISTORIES_DIR)) {
    console.log(`(no real histories at ${REAL_HISTORIES_DIR}; only the generated one runs)`);
    return [];
  }
  const byPath = readRealHistories();
  // "| README.md | 424 | 12,147,199 B | 329,282 B |"
  const packs = new Map<string, number>();
  const readme = readFileSync(path.join(REAL_HISTORIES_DIR, "README.md"), "utf8");
  for (const m of readme.matchAll(/^\|\s*(\S+)\s*\|\s*\d+\s*\|\s*[\d,]+ B\s*\|\s*([\d,]+) B\s*\|/gm)) {
    packs.set(m[1] as string, Number((m[2] as string).replaceAll(",", "")));
  }
  return [...byPath].map(([name, revisions]) => ({ name, revisions, readmePack: packs.get(name) ?? null }));
}

function generatedHistory(): History {
  const random = generator(42);
  const words =
    "data layer version history small edit writing clarity model answer review draft note 東京 首都 天気 crème brûlée café 😀 🎉 👩‍💻".split(
      " ",
    );
  const pick = () => words[Math.floor(random() * words.length)] as string;
  const paragraphs: string[] = [];
  while (paragraphs.join("\n\n").length < 20_000) {
    paragraphs.push(Array.from({ length: 40 + Math.floor(random() * 40) }, pick).join(" "));
  }
  let chars = Array.from(paragraphs.join("\n\n"));
  const revisions = [chars.join("")];
  for (let i = 1; i < GENERATED_VERSIONS; i++) {
    const at = Math.floor(random() * chars.length);
    const kind = random();
    const phrase = Array.from(`${pick()} ${pick()} `);
    if (kind < 0.4) chars.splice(at, 0, ...phrase);
    else if (kind < 0.8) chars.splice(at, phrase.length, ...phrase);
    else chars.splice(at, 12);
    if (random() < 0.02) chars = [...chars, ..."\n\nA new paragraph appended at the end. ".split("")];
    revisions.push(chars.join(""));
  }
  return { name: `generated (${GENERATED_VERSIONS} edits)`, revisions, readmePack: null };
}

/** Git's own pack of the same revisions, made in this run: every revision as a blob, `git pack-objects` on one thread (with several, git splits the delta search between threads and the size changes from run to run). */
async function gitPackSize(revisions: string[]): Promise<number | null> {
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-git-"));
  try {
    execFileSync("git", ["init", "-q", dir]);
    const files = path.join(dir, "revisions");
    await mkdir(files);
    const names: string[] = [];
    for (const [i, text] of revisions.entries()) {
      const name = path.join(files, String(i));
      await writeFile(name, text);
      names.push(name);
    }
    const shas = execFileSync("git", ["-C", dir, "hash-object", "-w", "--stdin-paths"], {
      input: names.join("\n"),
      maxBuffer: 1 << 26,
    }).toString();
    const pack = execFileSync("git", ["-C", dir, "pack-objects", "-q", "--threads=1", "--stdout"], {
      input: shas,
      maxBuffer: 1 << 28,
    });
    return pack.byteLength;
  } catch {
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

export async function runVersionsBench() {
  const histories = [...realHistories(), generatedHistory()];
  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-versions-"));
  const config = loadConfig({
    STRATA_DATA_DIR: dir,
    LOG_LEVEL: "silent",
    BODY_LIMIT_BYTES: String(8 * 1024 * 1024),
  });
  // As the tests run it: PGlite in memory, so the figures are the storage
  // design's and not the disk's (the blob store is on disk).
  const platform = await openPlatform(
    { ...config, database: { ...config.database, dataDir: null } as typeof config.database },
    { logger: createLogger("silent") },
  );
  const app = await buildServer(platform, [writingModule]);
  let client: Worker | undefined;
  try {
    await createMigrator(platform.database, [writingModule]).up();
    await app.listen({ port: 0, host: "127.0.0.1" });
    const address = app.server.address();
    const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
    const call = async (method: string, url: string, token?: string, body?: unknown) => {
      const res = await httpClient(base, { token })(method, url, body);
      if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    };
    const reg = await call("POST", "/v1/auth/register", undefined, {
      email: "bench@example.com",
      password: "correct horse battery staple",
      name: "Bench",
    });
    const token = reg.accessToken as string;
    // The bench measures storage, not the rate limiter: lift the caller's API limit.
    await sql`update organizations set settings = jsonb_set(settings, '{rate_limits}', '{"api": 100000000}')
      where id in (select personal_organization_id from users where id = ${reg.user.id})`.execute(platform.database.db);
    // The client runs in a worker thread (versions-client.ts), beside the server's event loop.
    client = new Worker(new URL("./versions-client.mjs", import.meta.url), { workerData: { base, token } });
    const worker = client;
    const replay = (request: ReplayRequest) =>
      new Promise<ReplayResult>((resolve, reject) => {
        const onMessage = (message: ReplayResult | { type: "forget" } | { type: "failed"; message: string }) => {
          if (message.type === "forget") {
            forgetObjectContents(platform);
            worker.postMessage({ type: "forgotten" });
            return;
          }
          worker.off("message", onMessage);
          if (message.type === "failed") reject(new Error(message.message));
          else resolve(message);
        };
        worker.on("message", onMessage);
        worker.postMessage(request);
      });

    for (const history of histories) {
      const git = await gitPackSize(history.revisions);
      const full = history.revisions.reduce((n, r) => n + Buffer.byteLength(r), 0);
      const { documentId, saves, reads, cold, restores, stored, afterRestores } = await replay({
        type: "replay",
        name: history.name,
        revisions: history.revisions,
        seed: 7,
        restores: RESTORES,
      });
      const doc = { id: documentId };
      const shape = await platform.database.db
        .selectFrom("document_objects")
        .select([
          sql<number>`count(*) filter (where kind = 'keyframe')::int`.as("keyframes"),
          sql<number>`count(*) filter (where kind = 'delta')::int`.as("deltas"),
          sql<number>`max(depth)::int`.as("depth"),
        ])
        .where("document_id", "=", doc.id)
        .executeTakeFirstOrThrow();

      const kib = (n: number | null) => (n === null ? "n/a" : `${(n / 1024).toFixed(1)} KiB`);
      const ms = (n: number) => `${n.toFixed(1)}`;
      console.log(
        `\n${history.name}: ${history.revisions.length} versions, ${shape.keyframes} keyframes + ${shape.deltas} deltas (deepest chain ${shape.depth})`,
      );
      console.log(
        `  stored ${kib(stored)}   git pack ${kib(git)} (this run)${history.readmePack ? `, ${kib(history.readmePack)} (data set README)` : ""}   full copies ${kib(full)}`,
      );
      console.log(
        `  stored / git pack: ${git ? (stored / git).toFixed(2) : "n/a"} (goal <= 1.00)   stored / full: ${((stored / full) * 100).toFixed(1)}%`,
      );
      console.log(
        `  save    p50 ${ms(percentile(saves, 0.5))} ms  p99 ${ms(percentile(saves, 0.99))} ms  (goal p99 <= 50 ms)`,
      );
      console.log(
        `  read    p50 ${ms(percentile(reads, 0.5))} ms  p99 ${ms(percentile(reads, 0.99))} ms  (goal p99 <= 20 ms; all ${reads.length} versions, byte-exact)`,
      );
      console.log(
        `  read    p50 ${ms(percentile(cold, 0.5))} ms  p99 ${ms(percentile(cold, 0.99))} ms  (${cold.length} of them again, each with the delta base cache emptied first)`,
      );
      console.log(
        `  restore p50 ${ms(percentile(restores, 0.5))} ms  p99 ${ms(percentile(restores, 0.99))} ms  (goal p99 <= 20 ms; ${RESTORES} random, back to back, byte-exact; added ${afterRestores - stored} B)`,
      );
    }

    // The delta work on the largest document (2 MiB), which a worker pool can take off the event loop.
    const big = Buffer.from((histories[0]?.revisions.at(-1) ?? "x".repeat(40_000)).repeat(60)).subarray(0, 2 << 20);
    const edited = Buffer.concat([big.subarray(0, 1 << 20), Buffer.from(" an edit "), big.subarray(1 << 20)]);
    let t = performance.now();
    const delta = makeDelta(big, edited);
    const create = performance.now() - t;
    t = performance.now();
    applyDelta(big, delta);
    const apply = performance.now() - t;
    t = performance.now();
    await encodeObject(edited, [big]);
    const encode = performance.now() - t;
    console.log(
      `\n2 MiB document: Fossil delta creation ${create.toFixed(0)} ms (synchronous), apply ${apply.toFixed(1)} ms, whole encode with compression and verification ${encode.toFixed(0)} ms`,
    );
  } finally {
    await client?.terminate();
    await app.close();
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
}
