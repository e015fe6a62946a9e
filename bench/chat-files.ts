/**
 * Chat files: how long a large PDF takes from upload to searchable, and how
 * fast file search answers at 100,000 chunks.
 *
 * Upload to searchable (embedded, PGlite, the offline embedder): a PDF of
 * BENCH_PDF_MB (default 10) MB written by pdf-lib, pages of real prose
 * (../shared/data), uploaded over HTTP as multipart to a Strata server in
 * this process with its job workers. Reported: the upload's answer (the
 * bytes streamed to the blob store), the time until the file is `ready`
 * (extracted and chunked on a compute thread), and until every chunk has
 * its vector and a phrase from the last page is found by /v1/files/search;
 * beside the floor: pdf.js extracting the same PDF alone.
 *
 * File search at BENCH_CHUNKS chunks (default 100,000) of one user's 1,000
 * files, on the Postgres server and on PGlite: BENCH_QUERIES (default 200)
 * queries through /v1/files/search's work (hybrid search over the file
 * chunk source: full text, file names, and vectors where the database has
 * pgvector: on PGlite every chunk is embedded first by the offline model)
 * beside the same full-text ranking as raw SQL. p50 and p95.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Kysely, sql } from "kysely";
import { PDFDocument, StandardFonts } from "pdf-lib";
import { loadConfig } from "../src/config/config.ts";
import { buildServer } from "../src/http/server.ts";
import { FILE_CHUNK_SOURCE } from "../src/modules/chat/files.ts";
import { chatModule } from "../src/modules/chat/index.ts";
import { extractText } from "../src/modules/chat/text-extraction.ts";
import type { Tables } from "../src/platform/database/tables.ts";
import { createLogger } from "../src/platform/logging/logger.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openPlatform } from "../src/runtime/platform.ts";
import { startWorkers } from "../src/runtime/workers.ts";
import { client } from "../test/support/http.ts";
import { registerUser } from "../test/support/writing-fixtures.ts";
import { embedWithHashing } from "./hashing-embed.ts";
import { openBackend } from "./search.ts";
import { generator, journalCorpus, percentile, queryWords } from "./search-corpus.ts";

const PDF_MB = Number(process.env.BENCH_PDF_MB ?? 10);
const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 100_000);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const WARMUP = 10;

/** A PDF of real prose, page after page, of about `bytes`; the marker on its last page. */
async function largePdf(bytes: number): Promise<{ pdf: Uint8Array; pages: number; lastLine: string }> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const corpus = journalCorpus(4_000, 13);
  let pages = 0;
  let lastLine = "";
  const addPage = () => {
    const entry = corpus[pages % corpus.length] as (typeof corpus)[number];
    const page = doc.addPage([612, 792]);
    const words = `${entry.title}. ${entry.content} ${entry.content}`.split(" ");
    const lines: string[] = [];
    for (let at = 0; at < words.length && lines.length < 44; at += 12) lines.push(words.slice(at, at + 12).join(" "));
    lines.forEach((line, n) => {
      page.drawText(line.replace(/[^\x20-\x7e]/g, " "), { x: 40, y: 750 - n * 16, size: 10, font });
    });
    lastLine = `pagemarker${pages}`;
    page.drawText(lastLine, { x: 40, y: 30, size: 8, font });
    pages++;
  };
  // A sample tells the size of a page; saving the growing document again and again would cost more than the rest.
  for (let i = 0; i < 200; i++) addPage();
  const perPage = (await doc.save()).length / 200;
  while (pages * perPage < bytes) addPage();
  return { pdf: await doc.save(), pages, lastLine };
}

async function uploadToSearchable() {
  const made = await largePdf(PDF_MB * 1024 * 1024);
  const started = performance.now();
  const floor = (await extractText({ kind: "pdf", bytes: made.pdf })).length;
  const floorMs = performance.now() - started;

  const dir = await mkdtemp(path.join(tmpdir(), "strata-bench-files-"));
  const config = loadConfig({
    STRATA_DATA_DIR: dir,
    LOG_LEVEL: "silent",
    FILE_MAX_BYTES: String(64 * 1024 * 1024),
    EMBEDDING_BACKFILL_PAUSE_MS: "0",
  });
  const platform = await openPlatform(config, { logger: createLogger("silent") });
  await createMigrator(platform.database, [chatModule]).up();
  const app = await buildServer(platform, [chatModule]);
  const stopWorkers = await startWorkers(platform, [chatModule]);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  try {
    const { token } = await registerUser(client(app), "Bencher");
    const form = new FormData();
    form.append("file", new Blob([made.pdf], { type: "application/pdf" }), "large.pdf");
    const t0 = performance.now();
    const res = await fetch(`${url}/v1/files`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const uploaded = (await res.json()) as { file: { id: string } };
    const uploadMs = performance.now() - t0;
    if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(uploaded)}`);
    const get = async () =>
      (await (
        await fetch(`${url}/v1/files/${uploaded.file.id}`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { status: string; chunkCount: number; failureReason: string | null };
    let file = await get();
    while (file.status !== "ready" && file.status !== "failed") {
      await new Promise((resolve) => setTimeout(resolve, 100));
      file = await get();
    }
    const readyMs = performance.now() - t0;
    if (file.status === "failed") throw new Error(`processing failed: ${file.failureReason}`);
    const marker = made.lastLine;
    for (;;) {
      const embedded = await platform.database.db
        .selectFrom("embeddings")
        .select((eb) => eb.fn.countAll().as("n"))
        .where("source", "=", FILE_CHUNK_SOURCE)
        .executeTakeFirstOrThrow();
      if (Number(embedded.n) >= file.chunkCount) {
        const found = (await (
          await fetch(`${url}/v1/files/search?q=${marker}`, { headers: { authorization: `Bearer ${token}` } })
        ).json()) as { items: unknown[] };
        if (found.items.length > 0) break;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const searchableMs = performance.now() - t0;
    console.log(
      `a ${(made.pdf.length / 1024 / 1024).toFixed(1)} MB PDF of ${made.pages} pages (${(floor / 1024 / 1024).toFixed(1)} MB of text), ${file.chunkCount} chunks`,
    );
    console.log(
      `upload answered ${(uploadMs / 1000).toFixed(2)} s | ready (extracted, chunked) ${(readyMs / 1000).toFixed(1)} s | ` +
        `searchable (every chunk embedded, the last page found) ${(searchableMs / 1000).toFixed(1)} s | ` +
        `pdf.js extraction alone ${(floorMs / 1000).toFixed(1)} s`,
    );
  } finally {
    await stopWorkers();
    await app.close();
    await platform.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function fileSearch() {
  const corpus = journalCorpus(CHUNKS, 17);
  const queries = queryWords(corpus, QUERIES + WARMUP, 19);
  for (const name of ["postgres", "pglite"] as const) {
    const backend = await openBackend(name, [chatModule]);
    try {
      const { platform, principal } = backend;
      if (principal.kind !== "user") throw new Error("a user's account");
      const db = platform.database.db;
      const started = performance.now();
      const files: string[] = [];
      for (let i = 0; i < 1_000; i++) {
        files.push(
          (
            await db
              .insertInto("files")
              .values({
                user_id: principal.userId,
                anonymous_session_id: null,
                organization_id: principal.organizationId,
                filename: `notes-${i}.md`,
                file_path: `chat-files/bench-${i}`,
                file_size: 1,
                mime_type: "text/markdown",
                content_sha256: `bench-${i}`,
                status: "ready",
              })
              .returning("id")
              .executeTakeFirstOrThrow()
          ).id,
        );
      }
      const random = generator(29);
      let offset = 0;
      for (let i = 0; i < corpus.length; i += 500) {
        await db
          .insertInto("file_chunks")
          .values(
            corpus.slice(i, i + 500).map((e, k) => {
              const content = `${e.title}. ${e.content}`;
              const start = offset;
              offset += content.length;
              return {
                file_id: files[Math.floor(random() * files.length)] as string,
                chunk_index: i + k,
                content,
                start_offset: start,
                end_offset: offset,
              };
            }),
          )
          .execute();
      }
      if ((await platform.vectors.support()).available) await embedChunks(db);
      await sql`analyze file_chunks`.execute(db);
      await sql`analyze files`.execute(db);
      console.log(
        `${name.padEnd(8)} ${CHUNKS} chunks in 1,000 files loaded in ${((performance.now() - started) / 1000).toFixed(0)} s`,
      );
      const strata: number[] = [];
      const raw: number[] = [];
      let vector = "";
      for (const [i, q] of queries.entries()) {
        let t = performance.now();
        const result = await platform.search.search(principal, q, { kinds: ["file_chunk"], limit: 20 });
        vector =
          result.vector === "used"
            ? "full text, file names and vectors"
            : `full text and file names; vectors ${result.vector}`;
        const s = performance.now() - t;
        t = performance.now();
        await sql`
          select c.id, ts_rank_cd(c.content_vector, q) as rank,
            ts_headline('english', c.content, q, 'MaxWords=30, MinWords=12, MaxFragments=2') as snippet
          from file_chunks c join files f on f.id = c.file_id, websearch_to_tsquery('english', ${q}) q
          where f.user_id = ${principal.userId} and f.status = 'ready' and c.content_vector @@ q
          order by rank desc limit 20`.execute(platform.database.read);
        const r = performance.now() - t;
        if (i >= WARMUP) {
          strata.push(s);
          raw.push(r);
        }
      }
      console.log(
        `${name.padEnd(8)} file search p50 ${percentile(strata, 0.5).toFixed(2)} ms  p95 ${percentile(strata, 0.95).toFixed(2)} ms ` +
          `(hybrid: ${vector}) | raw full-text SQL p50 ${percentile(raw, 0.5).toFixed(2)} ms  ` +
          `p95 ${percentile(raw, 0.95).toFixed(2)} ms`,
      );
    } finally {
      await backend.dispose();
    }
  }
}

/** Every chunk embedded by the offline model and written through Strata's write path, its HNSW index kept as it goes. */
async function embedChunks(db: Kysely<Tables>) {
  const started = performance.now();
  const { ids } = await embedWithHashing(db, FILE_CHUNK_SOURCE, async (after) => {
    let page = db.selectFrom("file_chunks").select(["id", "content"]).orderBy("id").limit(500);
    if (after) page = page.where("id", ">", after);
    return (await page.execute()).map((r) => ({ id: r.id, text: r.content }));
  });
  const count = ids.length;
  await sql`analyze embeddings`.execute(db);
  console.log(
    `         ${count} chunks embedded with the HNSW index in ${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
}

export async function runChatFilesBench() {
  await uploadToSearchable();
  await fileSearch();
}
