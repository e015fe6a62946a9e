import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { startChatCompletionsServer } from "../support/chat-completions-server.ts";
import { exitOf, startServe } from "../support/cli.ts";

/**
 * `npm start`'s embedded server runs the generation workers itself: a
 * context made through the API is processed, through the real provider
 * client, and read back completed through the API.
 */
describe("generation on the embedded server", () => {
  let root: string;
  let ai: Awaited<ReturnType<typeof startChatCompletionsServer>>;
  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), "strata-generation-"));
    ai = await startChatCompletionsServer();
  });
  after(async () => {
    await ai.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("processes a context through its pipeline inside strata serve, and lists the worker", async () => {
    const server = await startServe({
      STRATA_DATA_DIR: path.join(root, "data"),
      LOG_LEVEL: "warn",
      AI_BASE_URL: ai.baseUrl,
    });
    try {
      const call = async (method: string, url: string, token: string | null, body?: unknown) => {
        const res = await fetch(`${server.url}${url}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body ? { "content-type": "application/json" } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        return { status: res.status, body: (await res.json()) as any };
      };
      const registered = await call("POST", "/v1/auth/register", null, {
        email: "writer@example.com",
        password: "correct horse battery staple",
      });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const token = registered.body.accessToken as string;
      const made = async (url: string, body: unknown) => {
        const res = await call("POST", url, token, body);
        assert.equal(res.status, 201, JSON.stringify(res.body));
        return res.body;
      };
      await made("/v1/generation/templates", {
        templateKey: "tmpl_note",
        name: "Note",
        sections: [
          {
            id: "body",
            type: "text",
            name: "Body",
            instructions: "Write about {title}",
            wordRange: { min: 10, max: 50 },
          },
        ],
      });
      const template = await made("/v1/generation/components", {
        name: "Note template",
        type: "template",
        config: { templateKey: "tmpl_note" },
      });
      const generator = await made("/v1/generation/components", {
        name: "Writer",
        type: "ai_generator",
        config: { model: "local-model", temperature: 0.2 },
      });
      const markdown = await made("/v1/generation/components", {
        name: "Markdown",
        type: "transformer",
        config: { format: "markdown" },
      });
      const pipeline = await made("/v1/generation/pipelines", {
        name: "Notes",
        components: [{ componentId: template.id }, { componentId: generator.id }, { componentId: markdown.id }],
      });
      const context = await made("/v1/generation/contexts", {
        type: "note",
        pipelineId: pipeline.id,
        data: { title: "Tides" },
      });
      let read = context;
      for (let i = 0; i < 400 && read.status !== "completed" && read.status !== "failed"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        read = (await call("GET", `/v1/generation/contexts/${context.id}`, token)).body;
      }
      assert.equal(read.status, "completed", JSON.stringify(read));
      assert.deepEqual(read.processing.completedComponents, ["template", "ai_generator", "transformer"]);
      assert.match(read.result.formattedContent.content, /^# Tides/);
      assert.deepEqual(read.result.template.sections[0].wordRange, { min: 10, max: 50 });
      assert.equal(read.result.template.sections[0].instructions, "Write about Tides");
      assert.equal(ai.requests.at(-1)?.body.model, "local-model");
      const workers = await call("GET", "/v1/generation/workers", token);
      assert.equal(workers.status, 200);
      assert.equal(workers.body.items.length, 1, JSON.stringify(workers.body));
      const stats = await call("GET", `/v1/generation/pipelines/${pipeline.id}/stats`, token);
      assert.equal(stats.status, 200);
      assert.equal(stats.body.durations.count, 1, JSON.stringify(stats.body));
    } finally {
      server.child.kill("SIGTERM");
    }
    assert.equal(await exitOf(server.child), 0);
  });
});
