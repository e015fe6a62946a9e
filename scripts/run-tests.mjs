#!/usr/bin/env node
// Runs a test suite with Node's own test runner over TypeScript (through tsx).
// The `strata` command itself is tested from its compiled build (dist/).
//   unit         src/**/*.test.ts, test/cli and the TypeScript client's tests
//                (packages/client/test): needs no server (npm test)
//   integration  test/integration: needs the real Postgres and Redis servers
// Node 20's runner does not expand globs itself, so the files are found here.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const suites = {
  unit: ["src", "test/cli", "packages/client/test"],
  integration: ["test/integration"],
};
const suite = process.argv[2] ?? "unit";
const roots = suites[suite];
if (!roots) {
  console.error(`unknown suite ${suite}; expected one of ${Object.keys(suites).join(", ")}`);
  process.exit(2);
}

const files = roots
  .flatMap((root) => readdirSync(root, { recursive: true }).map((entry) => path.join(root, String(entry))))
  .filter((file) => file.endsWith(".test.ts"))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${roots.join(", ")}`);
  process.exit(1);
}

// test/cli runs the `strata` command as it ships, from the compiled build,
// and the client's tests import the built package; build both now (when
// stale) rather than inside the first test that needs them.
for (const script of ["build.mjs", "build-client.mjs"]) {
  const build = spawnSync(process.execPath, [path.join(import.meta.dirname, script), "--if-stale"], {
    stdio: "inherit",
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

const result = spawnSync(
  process.execPath,
  [
    // The local S3-protocol test server (s3rver) encrypts list tokens with DES,
    // which OpenSSL 3 only provides through its legacy provider.
    "--openssl-legacy-provider",
    "--import",
    "tsx",
    "--test",
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    ...process.argv.slice(3),
    ...files,
  ],
  { stdio: "inherit", env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" } },
);
process.exit(result.status ?? 1);
