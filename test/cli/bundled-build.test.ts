import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { exitOf, startServe } from "../support/cli.ts";

/**
 * The bundled build keeps every file lookup working: the API docs' static
 * files, the OpenAPI document, and the compute pool's worker modules, found
 * beside the modules that declare the tasks, for a diff and for the coding of
 * a large document.
 */
describe("the bundled build", () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "strata-bundle-"));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("serves the docs and runs compute tasks on worker threads", async () => {
    const server = await startServe({
      STRATA_DATA_DIR: path.join(root, "data"),
      LOG_LEVEL: "warn",
    });
    try {
      const { url } = server;
      const index = await fetch(`${url}/docs/static/index.html`);
      assert.equal(index.status, 200);
      assert.match(await index.text(), /swagger-ui/i);
      const bundle = await fetch(`${url}/docs/static/swagger-ui-bundle.js`);
      assert.equal(bundle.status, 200);
      assert.ok((await bundle.arrayBuffer()).byteLength > 100_000);
      const spec = (await (await fetch(`${url}/openapi.json`)).json()) as { openapi: string; paths: object };
      assert.equal(spec.openapi, "3.1.0");
      assert.ok("/v1/documents" in spec.paths);

      const registered = await post(`${url}/v1/auth/register`, undefined, {
        email: "bundle@example.com",
        password: "correct horse battery staple",
        name: "Bundle",
      });
      assert.equal(registered.status, 201);
      const token = ((await registered.json()) as { accessToken: string }).accessToken;
      // Every line changes, so the changed span is far above the size that stays inline.
      const text = (seed: number, lines: number) =>
        Array.from(
          { length: lines },
          (_, i) => `line ${i} ${((i + 1) * 7919 * seed) % 100_003} and some more words`,
        ).join("\n");
      const created = await post(`${url}/v1/documents`, token, { title: "t", content: text(1, 400) });
      assert.equal(created.status, 201);
      const { id } = (await created.json()) as { id: string };
      assert.equal((await post(`${url}/v1/documents/${id}/versions`, token, { content: text(3, 400) })).status, 201);
      const diff = await fetch(`${url}/v1/documents/${id}/diff?from=1&to=2`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(diff.status, 200);
      // Above 128 KB the content object is coded on the pool.
      const large = text(5, 6000);
      assert.ok(large.length > 128 * 1024);
      assert.equal((await post(`${url}/v1/documents/${id}/versions`, token, { content: large })).status, 201);
      const read = await fetch(`${url}/v1/documents/${id}/versions/3`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(((await read.json()) as { content: string }).content, large);

      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const task of ["writing.display_diff", "writing.encode_object"]) {
        assert.match(
          metrics,
          new RegExp(
            `strata_compute_tasks_total\\{task="${task.replace(".", "\\.")}",where="pool",outcome="ok"\\} [1-9]`,
          ),
          `${task} ran on a worker thread`,
        );
      }
    } finally {
      server.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(server.child), 0);
  });
});

function post(url: string, token: string | undefined, body: unknown) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}
