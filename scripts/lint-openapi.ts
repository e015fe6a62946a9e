// Lints the OpenAPI document as a client would receive it: builds the server
// on an embedded platform (scripts/openapi-document.ts; no servers), reads
// GET /openapi.json, writes it to a temporary file and runs Redocly's CLI on
// it with the rules in redocly.yaml (its recommended set). Exits with
// Redocly's status: any error fails `npm run lint:openapi`, and so CI.
//   npm run lint:openapi [-- <extra redocly lint options>]
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { serverOpenApiDocument } from "./openapi-document.ts";

const root = path.join(import.meta.dirname, "..");
const dir = await mkdtemp(path.join(tmpdir(), "strata-openapi-"));
let status = 1;
try {
  const file = path.join(dir, "openapi.json");
  // Indented, so the lint's line numbers point somewhere readable.
  const document = await serverOpenApiDocument({ PUBLIC_URL: "https://strata.example" });
  await writeFile(file, JSON.stringify(document, null, 2));
  const redocly = spawnSync(
    path.join(root, "node_modules", ".bin", "redocly"),
    ["lint", "--config", path.join(root, "redocly.yaml"), ...process.argv.slice(2), file],
    {
      stdio: "inherit",
      cwd: root,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    },
  );
  status = redocly.status ?? 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.exit(status);
