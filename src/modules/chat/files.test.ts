import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { eventually } from "../../../test/support/eventually.ts";
import { embeddedCount, openModuleHarness } from "../../../test/support/module-harness.ts";
import { uploadFile } from "../../../test/support/multipart.ts";
import { pdfWithPages } from "../../../test/support/pdf-fixtures.ts";
import { registerUser } from "../../../test/support/writing-fixtures.ts";
import type { App } from "../../http/app.ts";
import type { Platform } from "../../runtime/platform.ts";
import { FILE_CHUNK_SOURCE } from "./files.ts";
import { chatModule } from "./index.ts";

const modules = [chatModule];
const MAX_BYTES = 64 * 1024;

describe("chat files (embedded)", () => {
  let harness: Awaited<ReturnType<typeof openModuleHarness>>;
  let platform: Platform;
  let app: App;
  let call: Awaited<ReturnType<typeof openModuleHarness>>["call"];
  let token: string;

  before(async () => {
    harness = await openModuleHarness(modules, { FILE_MAX_BYTES: String(MAX_BYTES) });
    ({ platform, app, call } = harness);
    ({ token } = await registerUser(call, "Uploader"));
  });
  after(async () => {
    await harness?.close();
  });

  const upload = (file: { filename: string; contentType?: string; content: Uint8Array | string }, as = token) =>
    uploadFile(app, as, file);
  const processed = (fileId: string, as = token) =>
    eventually(
      async () => (await call("GET", `/v1/files/${fileId}`, { token: as })).body,
      (file) => file.status === "ready" || file.status === "failed",
      30_000,
    );
  const blobCount = async () => (await platform.blobs.list("chat-files/")).items.length;

  it("stores a PDF, reads its pages into chunks, embeds them, and finds them by search", async () => {
    const pdf = await pdfWithPages([
      ["The lighthouse keeper logs the weather every evening.", "Storm warnings go up on the mast."],
      ["Kayak rentals open at eight in the morning.", "Life jackets are included with every kayak."],
    ]);
    const res = await upload({ filename: "harbour-guide.pdf", contentType: "application/pdf", content: pdf });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.duplicate, false);
    assert.equal(res.body.file.status, "pending");
    assert.equal(res.body.file.mimeType, "application/pdf");
    assert.equal(res.body.file.size, pdf.length);
    const file = await processed(res.body.file.id);
    assert.equal(file.status, "ready", JSON.stringify(file));
    assert.ok(file.chunkCount >= 1);
    const chunks = await platform.database.db
      .selectFrom("file_chunks")
      .select(["id", "content", "start_offset", "end_offset"])
      .where("file_id", "=", file.id)
      .execute();
    assert.match(chunks.map((c) => c.content).join(" "), /Kayak rentals open at eight/);
    await embeddedCount(platform, FILE_CHUNK_SOURCE, chunks.length);
    const found = await call("GET", "/v1/files/search?q=kayak%20rentals", { token });
    assert.equal(found.status, 200);
    assert.equal(found.body.items[0]?.kind, "file_chunk");
    assert.equal(found.body.items[0]?.title, "harbour-guide.pdf");
    assert.equal(found.body.items[0]?.url, `/v1/files/${file.id}`);
    const everywhere = await call("GET", "/v1/search?q=lighthouse%20keeper", { token });
    assert.ok(everywhere.body.items.some((i: { kind: string }) => i.kind === "file_chunk"));
    // Another caller finds nothing of it.
    const { token: other } = await registerUser(call, "Other");
    assert.deepEqual((await call("GET", "/v1/files/search?q=kayak", { token: other })).body.items, []);
    assert.equal((await call("GET", `/v1/files/${file.id}`, { token: other })).status, 404);
  });

  it("stores the same bytes once per owner, and deletes a file with its chunks, vectors and blob", async () => {
    const content = "# Packing list\n\nA tent, a stove and two paddles.\n";
    const first = await upload({ filename: "packing.md", content });
    assert.equal(first.status, 201);
    assert.equal(first.body.file.mimeType, "text/markdown");
    const blobs = await blobCount();
    const second = await upload({ filename: "packing-copy.md", content });
    assert.equal(second.status, 200);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.file.id, first.body.file.id);
    assert.equal(await blobCount(), blobs, "the second copy was not kept");
    const ready = await processed(first.body.file.id);
    assert.equal(ready.status, "ready");
    await eventually(
      () => platform.database.db.selectFrom("embeddings").select("resource_id").execute(),
      (rows) => rows.length > 0,
      30_000,
    );
    assert.equal((await call("DELETE", `/v1/files/${ready.id}`, { token })).status, 204);
    assert.equal(await blobCount(), blobs - 1);
    const chunks = await platform.database.db
      .selectFrom("file_chunks")
      .select("id")
      .where("file_id", "=", ready.id)
      .execute();
    assert.deepEqual(chunks, []);
    assert.equal((await call("GET", `/v1/files/${ready.id}`, { token })).status, 404);
  });

  it("keeps a file whose text cannot be read as failed, with the reason and nothing else", async () => {
    const res = await upload({
      filename: "broken.pdf",
      contentType: "application/pdf",
      content: "%PDF-1.7\nnot a pdf",
    });
    assert.equal(res.status, 201);
    const file = await processed(res.body.file.id);
    assert.equal(file.status, "failed");
    assert.match(file.failureReason, /PDF could not be read/);
    assert.equal(file.chunkCount, 0);
  });

  it("refuses what is not a chat file, or not what it says, and anything over the size limit", async () => {
    const pdf = await pdfWithPages([["Hello."]]);
    const lying = await upload({ filename: "notes.txt", contentType: "text/plain", content: pdf });
    assert.equal(lying.status, 415);
    assert.equal(lying.body.error.code, "file_type_not_accepted");
    assert.equal(lying.body.error.details.detected, "application/pdf");
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    assert.equal((await upload({ filename: "x.png", content: png })).status, 415);
    const blobs = await blobCount();
    const big = await upload({ filename: "big.txt", contentType: "text/plain", content: "a".repeat(MAX_BYTES + 10) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, "payload_too_large");
    assert.equal(await blobCount(), blobs, "nothing kept of it");
    const json = await call("POST", "/v1/files", { token, body: { file: "x" } });
    assert.equal(json.status, 415);
    assert.equal(json.body.error.code, "unsupported_media_type");
  });

  it("moves an anonymous session's files to the account it registers", async () => {
    const anon = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
    const res = await upload({ filename: "visitor.txt", content: "A visitor's note about tides." }, anon);
    assert.equal(res.status, 201);
    const registered = await call("POST", "/v1/auth/register", {
      token: anon,
      body: { email: `files-${res.body.file.id.slice(0, 8)}@example.com`, password: "correct horse battery staple" },
    });
    assert.equal(registered.status, 201);
    const mine = await call("GET", `/v1/files/${res.body.file.id}`, { token: registered.body.accessToken });
    assert.equal(mine.status, 200);
  });

  it("keeps the account's own copy when a claimed session brings the same bytes", async () => {
    const email = `twice-${Date.now()}@example.com`;
    const user = await call("POST", "/v1/auth/register", { body: { email, password: "correct horse battery staple" } });
    const content = `The same notes, twice: ${email}.`;
    const own = await upload({ filename: "own.txt", content }, user.body.accessToken);
    await processed(own.body.file.id, user.body.accessToken);
    const anon = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
    const visitor = await upload({ filename: "visitor.txt", content }, anon);
    await processed(visitor.body.file.id, anon);
    const login = await call("POST", "/v1/auth/login", {
      token: anon,
      body: { email, password: "correct horse battery staple" },
    });
    assert.equal(login.status, 200, JSON.stringify(login.body));
    const files = await call("GET", "/v1/files", { token: login.body.accessToken });
    assert.deepEqual(
      files.body.items.map((f: { id: string }) => f.id),
      [own.body.file.id],
    );
    const chunks = await platform.database.db
      .selectFrom("file_chunks")
      .select("id")
      .where("file_id", "=", visitor.body.file.id)
      .execute();
    assert.equal(chunks.length, 0, "the session's copy went, chunks and all");
  });
});
