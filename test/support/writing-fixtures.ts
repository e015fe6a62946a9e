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
  const res = await call("POST", "/v1/documents", { token, body: { title: "Draft", content } });
  assert.equal(res.status, 201);
  return res.body.id as string;
}

/** Statements this platform has sent so far (BEGIN and COMMIT included), from its own metrics. */
export async function statementsSent(platform: Platform): Promise<number> {
  return (await platform.metrics.databaseQueries.get()).values.reduce((n, v) => n + v.value, 0);
}
