#!/usr/bin/env node
// Builds the TypeScript client (packages/client, @strata/client):
//   1. its types, src/generated/openapi.ts, from the OpenAPI document the
//      server makes in-process (packages/client/scripts/generate-types.ts
//      over scripts/openapi-document.ts: an embedded platform, no network,
//      no listening socket);
//   2. its JavaScript and declarations, dist/, with tsc.
// Run by `npm install` (prepare) and `npm run build` after the server's
// build; `npm test` runs it with --if-stale, which regenerates the types only
// when a server source, the generator or the lock file is newer than them,
// and recompiles only when a client source is newer than dist/. The server's
// own start (`strata`, `npm start`) never runs it.
import { spawnSync } from "node:child_process";
import { readdir, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { ROOT, sourceFiles } from "./build-state.mjs";

const CLIENT = path.join(ROOT, "packages/client");
const GENERATED = path.join(CLIENT, "src/generated/openapi.ts");
const DIST = path.join(CLIENT, "dist");
const STAMP = path.join(DIST, ".build-stamp");
const ifStale = process.argv.includes("--if-stale");

const started = performance.now();
const generatorInputs = [
  ...(await sourceFiles()),
  ...(await filesUnder(path.join(CLIENT, "scripts"))),
  path.join(ROOT, "scripts/openapi-document.ts"),
  path.join(ROOT, "package-lock.json"),
];
const generate = !ifStale || (await newerThan(generatorInputs, GENERATED));
if (generate) {
  run([process.execPath, "--import", "tsx", path.join(CLIENT, "scripts/generate-types.ts")]);
}
const compileInputs = [...(await filesUnder(path.join(CLIENT, "src"))), path.join(CLIENT, "tsconfig.json")];
if (generate || !ifStale || (await newerThan(compileInputs, STAMP))) {
  await rm(DIST, { recursive: true, force: true });
  run([process.execPath, path.join(ROOT, "node_modules/typescript/bin/tsc"), "-p", path.join(CLIENT, "tsconfig.json")]);
  await writeFile(STAMP, `${new Date().toISOString()}\n`);
  const ms = Math.round(performance.now() - started);
  process.stderr.write(`strata: built the client${generate ? " and its types" : ""} in ${ms} ms\n`);
}

function run(command) {
  const result = spawnSync(command[0], command.slice(1), { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

async function filesUnder(dir) {
  return (await readdir(dir, { recursive: true })).map((entry) => path.join(dir, String(entry)));
}

/** True when `target` is missing or any input is newer. */
async function newerThan(inputs, target) {
  const built = await stat(target).then(
    (s) => s.mtimeMs,
    () => null,
  );
  if (built === null) return true;
  const times = await Promise.all(
    inputs.map((file) =>
      stat(file).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  );
  return times.some((time) => time > built);
}
