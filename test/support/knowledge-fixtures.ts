import assert from "node:assert/strict";
import type { client } from "./http.ts";

type Call = ReturnType<typeof client>;

/** One rule, one practice and one template of the caller's organization (its admin's token); their ids. */
export async function knowledgeEntries(call: Call, token: string, key: string) {
  const create = async (plural: string, body: Record<string, unknown>) => {
    const res = await call("POST", `/v1/knowledge/${plural}`, { token, body });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.id as string;
  };
  const text = { category: "team", title: `Entry ${key}`, description: "An entry of the organization's own." };
  return {
    ruleId: await create("rules", { key, severity: "INFO", enforcement: "optional", ...text }),
    practiceId: await create("practices", { key, ...text }),
    knowledgeTemplateId: await create("templates", {
      key,
      name: `Template ${key}`,
      category: "team",
      content: "Hi {{who}}",
      variables: [{ name: "who", type: "string", required: false }],
    }),
  };
}
