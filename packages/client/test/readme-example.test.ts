import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { type EmbeddedServer, startEmbeddedServer } from "./embedded-server.ts";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const EXAMPLE = path.join(ROOT, "packages/client/examples/quickstart.ts");

describe("the README's TypeScript client example", () => {
  let server: EmbeddedServer;
  before(async () => {
    server = await startEmbeddedServer();
  });
  after(async () => {
    await server?.close();
  });

  it("is the example file, word for word", async () => {
    const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
    const example = await readFile(EXAMPLE, "utf8");
    assert.ok(
      readme.includes(`\`\`\`ts\n${example}\`\`\`\n`),
      "README.md shows packages/client/examples/quickstart.ts",
    );
  });

  it("runs against a real server, through the built package", async () => {
    process.env.STRATA_URL = server.baseUrl;
    const printed: string[] = [];
    const log = console.log;
    console.log = (...parts: unknown[]) => printed.push(parts.join(" "));
    try {
      // Imports @strata/client as an application would: the build in packages/client/dist.
      await import(EXAMPLE);
    } finally {
      console.log = log;
    }
    assert.equal(printed[0], "Essay 1");
    const chunks = printed.filter((line) => line.startsWith("chunk: ")).map((line) => line.slice("chunk: ".length));
    assert.ok(chunks.length > 1, printed.join("\n"));
    assert.equal(chunks.join(""), "The first draft. It needs work.");
    assert.ok(printed.includes("suggestion: The first draft. It needs work."), printed.join("\n"));
    assert.equal(printed.at(-1), "not found: 404");
  });
});
