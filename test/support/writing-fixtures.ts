import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Platform } from "../../src/runtime/platform.ts";
import type { client } from "./http.ts";

type Call = ReturnType<typeof client>;

export const TEST_PASSWORD = "correct horse battery staple";

/** Registers a new user with a unique address; its token and id. */
export async function registerUser(call: Call, name = "Writer") {
  const res = await call("POST", "/v1/auth/register", {
    body: { email: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`, password: TEST_PASSWORD, name },
  });
  assert.equal(res.status, 201);
  return { token: res.body.accessToken as string, id: res.body.user.id as string };
}

/** Creates a document titled "Draft"; its id. */
export async function createDraft(call: Call, token: string, content = "hello world"): Promise<string> {
  let res = await call("POST", "/v1/documents", { token, body: { title: "Draft", content } });
  // A save's delta runs in the compute pool, which sheds load with 503 compute_busy and a Retry-After when
  // the machine is saturated (a CI run's parallel suites): a client waits and sends it again.
  for (let tries = 0; res.status === 503 && res.body?.error?.code === "compute_busy" && tries < 5; tries++) {
    await new Promise((resolve) => setTimeout(resolve, Number(res.headers?.["retry-after"] ?? 1) * 1000));
    res = await call("POST", "/v1/documents", { token, body: { title: "Draft", content } });
  }
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

/** Statements this platform has sent so far (BEGIN and COMMIT included), from its own metrics. */
export async function statementsSent(platform: Platform): Promise<number> {
  return (await platform.metrics.databaseQueries.get()).values.reduce((n, v) => n + v.value, 0);
}
