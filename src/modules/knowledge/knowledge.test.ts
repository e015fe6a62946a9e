import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import { Value } from "typebox/value";
import { embeddedCount, openModuleHarness } from "../../../test/support/module-harness.ts";
import { TEST_PASSWORD } from "../../../test/support/writing-fixtures.ts";
import type { Platform } from "../../runtime/platform.ts";
import { archiveInactiveEntries } from "./archive.ts";
import { knowledgeModule } from "./index.ts";
import { RULE_SOURCE } from "./kinds.ts";
import { NewPractice, NewRule, NewTemplate } from "./schemas.ts";
import { STARTER_COUNT } from "./starter-data.ts";
import { STARTER_PRACTICES, STARTER_RULES, STARTER_TEMPLATES } from "./starter-entries.ts";

type Harness = Awaited<ReturnType<typeof openModuleHarness>>;

const rule = (key: string, extra: Record<string, unknown> = {}) => ({
  key,
  category: "TypeScript",
  title: `Rule ${key} about error handling`,
  description: "Wrap awaited calls so a rejection never goes unseen.",
  severity: "ERROR",
  enforcement: "mandatory",
  tags: ["Async"],
  ...extra,
});

describe("knowledge module (embedded)", () => {
  let h: Harness;
  let platform: Platform;
  let call: Harness["call"];
  /** An owner (admin) of a team organization, a plain member of it, and an outsider. */
  let admin: string;
  let member: string;
  let outsider: string;
  let anonymous: string;

  before(async () => {
    h = await openModuleHarness([knowledgeModule]);
    ({ platform, call } = h);
    const register = async (name: string) => {
      const email = `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;
      const res = await call("POST", "/v1/auth/register", { body: { email, password: TEST_PASSWORD, name } });
      assert.equal(res.status, 201);
      return { email, token: res.body.accessToken as string, refresh: res.body.refreshToken as string };
    };
    const owner = await register("owner");
    const joiner = await register("member");
    const team = await call("POST", "/v1/organizations", { token: owner.token, body: { name: "Team" } });
    const added = await call("POST", `/v1/organizations/${team.body.id}/members`, {
      token: owner.token,
      body: { email: joiner.email, role: "member" },
    });
    assert.equal(added.status, 201);
    const switchInto = async (refreshToken: string) =>
      (await call("POST", "/v1/auth/refresh", { body: { refreshToken, organizationId: team.body.id } })).body
        .accessToken as string;
    admin = await switchInto(owner.refresh);
    member = await switchInto(joiner.refresh);
    outsider = (await register("outsider")).token;
    anonymous = (await call("POST", "/v1/auth/anonymous")).body.accessToken;
    const seeded = await knowledgeModule.seed?.(platform, () => {});
    assert.deepEqual(seeded, { added: STARTER_COUNT, updated: 0, unchanged: 0 });
  });
  after(async () => {
    await h?.close();
  });

  it("ships starter entries that the API itself would accept", () => {
    const refused = [
      ...STARTER_RULES.filter((e: unknown) => !Value.Check(NewRule, e)),
      ...STARTER_PRACTICES.filter((e: unknown) => !Value.Check(NewPractice, e)),
      ...STARTER_TEMPLATES.filter((e: unknown) => !Value.Check(NewTemplate, e)),
    ].map((e) => e.key);
    assert.deepEqual(refused, []);
    assert.ok(STARTER_RULES.length >= 15 && STARTER_PRACTICES.length >= 8 && STARTER_TEMPLATES.length >= 5);
  });

  it("loads the starter data once: a second seed changes nothing, an edited entry is rewritten", async () => {
    const again = await knowledgeModule.seed?.(platform, () => {});
    assert.deepEqual(again, { added: 0, updated: 0, unchanged: STARTER_COUNT });
    const key = STARTER_RULES[0]?.key as string;
    await platform.database.db
      .updateTable("knowledge_rules")
      .set({ title: "Edited by hand" })
      .where("rule_id", "=", key)
      .execute();
    const restored = await knowledgeModule.seed?.(platform, () => {});
    assert.deepEqual(restored, { added: 0, updated: 1, unchanged: STARTER_COUNT - 1 });
    const row = await platform.database.db
      .selectFrom("knowledge_rules")
      .select("title")
      .where("rule_id", "=", key)
      .executeTakeFirstOrThrow();
    assert.equal(row.title, STARTER_RULES[0]?.title);
  });

  it("lets everyone read system entries, anonymous sessions included, and nobody write them", async () => {
    for (const token of [anonymous, outsider, member]) {
      const list = await call("GET", "/v1/knowledge/rules?system=true&limit=100", { token });
      assert.equal(list.status, 200);
      assert.equal(list.body.items.length, STARTER_RULES.length);
      assert.ok(list.body.items.every((r: { system: boolean }) => r.system));
    }
    const first = (await call("GET", "/v1/knowledge/rules?limit=1", { token: anonymous })).body.items[0];
    const edit = await call("PATCH", `/v1/knowledge/rules/${first.id}`, { token: admin, body: { title: "Mine" } });
    assert.equal(edit.status, 403);
    assert.equal(edit.body.error.code, "knowledge_entry_read_only");
    const remove = await call("DELETE", `/v1/knowledge/rules/${first.id}`, { token: admin });
    assert.equal(remove.body.error.code, "knowledge_entry_read_only");
  });

  it("lets only an organization's admins write its entries, which only its members read", async () => {
    const byMember = await call("POST", "/v1/knowledge/rules", { token: member, body: rule("team-001") });
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.error.code, "insufficient_role");
    const byAnonymous = await call("POST", "/v1/knowledge/rules", { token: anonymous, body: rule("team-001") });
    assert.equal(byAnonymous.status, 403);

    const made = await call("POST", "/v1/knowledge/rules", { token: admin, body: rule("team-001") });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.key, "team-001");
    assert.equal(made.body.category, "typescript", "categories are lower-cased");
    assert.deepEqual(made.body.tags, ["async"]);
    assert.equal(made.body.system, false);
    assert.equal(made.body.status, "ACTIVE");
    const twice = await call("POST", "/v1/knowledge/rules", { token: admin, body: rule("team-001") });
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, "knowledge_key_taken");
    assert.equal(twice.body.error.details.field, "body.key");

    assert.equal((await call("GET", `/v1/knowledge/rules/${made.body.id}`, { token: member })).status, 200);
    for (const token of [outsider, anonymous]) {
      const peek = await call("GET", `/v1/knowledge/rules/${made.body.id}`, { token });
      assert.equal(peek.status, 404);
      assert.equal(peek.body.error.code, "knowledge_entry_not_found");
      const change = await call("PATCH", `/v1/knowledge/rules/${made.body.id}`, { token, body: { priority: 1 } });
      assert.equal(change.status, 404, "another organization's entry is not found, not forbidden");
    }
    const byMemberEdit = await call("PATCH", `/v1/knowledge/rules/${made.body.id}`, {
      token: member,
      body: { priority: 1 },
    });
    assert.equal(byMemberEdit.body.error.code, "insufficient_role");
  });

  it("refuses severities and enforcement levels outside the seed's sets, in the API and in the table", async () => {
    const bad = await call("POST", "/v1/knowledge/rules", {
      token: admin,
      body: rule("bad-001", { severity: "FATAL", enforcement: "sometimes" }),
    });
    assert.equal(bad.status, 400);
    const fields = bad.body.error.details.fields.map((f: { field: string }) => f.field).sort();
    assert.deepEqual(fields, ["body.enforcement", "body.severity"]);
    await assert.rejects(
      sql`insert into knowledge_rules (rule_id, category, title, description, severity, enforcement)
        values ('x', 'c', 't', 'd', 'FATAL', 'mandatory')`.execute(platform.database.db),
      /knowledge_rules_severity_check/,
    );
    await assert.rejects(
      sql`insert into knowledge_rules (rule_id, category, title, description, severity, enforcement)
        values ('x', 'c', 't', 'd', 'INFO', 'sometimes')`.execute(platform.database.db),
      /knowledge_rules_enforcement_check/,
    );
  });

  it("filters by category, severity, enforcement, tags and activity, and soft-deletes and restores", async () => {
    const warn = await call("POST", "/v1/knowledge/rules", {
      token: admin,
      body: rule("team-002", { severity: "WARNING", enforcement: "optional", category: "postgres", tags: ["sql"] }),
    });
    assert.equal(warn.status, 201);
    const list = async (query: string, token = admin) =>
      (await call("GET", `/v1/knowledge/rules?limit=100&${query}`, { token })).body.items.map(
        (r: { key: string }) => r.key,
      );
    assert.deepEqual(await list("system=false&severity=WARNING"), ["team-002"]);
    assert.deepEqual(await list("system=false&enforcement=mandatory"), ["team-001"]);
    assert.deepEqual(await list("system=false&tag=SQL"), ["team-002"]);
    assert.ok((await list("category=postgres")).includes("team-002"));
    assert.ok(!(await list("category=postgres")).includes("team-001"));
    assert.ok((await list("severity=CRITICAL")).includes("pg-parameterized-queries"));

    assert.equal((await call("DELETE", `/v1/knowledge/rules/${warn.body.id}`, { token: admin })).status, 204);
    assert.deepEqual(await list("system=false"), ["team-001"]);
    assert.deepEqual(await list("system=false&active=false"), ["team-002"]);
    const gone = await call("GET", `/v1/knowledge/rules/${warn.body.id}`, { token: admin });
    assert.equal(gone.body.active, false);
    assert.ok(gone.body.deactivatedAt);
    const back = await call("PATCH", `/v1/knowledge/rules/${warn.body.id}`, { token: admin, body: { active: true } });
    assert.equal(back.body.active, true);
    assert.equal(back.body.deactivatedAt, null);
  });

  it("fills a template's variables, checks them, and counts each use", async () => {
    const made = await call("POST", "/v1/knowledge/templates", {
      token: admin,
      body: {
        key: "greeting",
        name: "Greeting",
        category: "docs",
        content: "Hello {{name}}, you have {{count}} tasks: {{items}}. Urgent: {{urgent}}. {{sign}}",
        variables: [
          { name: "name", type: "string", required: true },
          { name: "count", type: "number", required: true },
          { name: "items", type: "list", required: true },
          { name: "urgent", type: "boolean", required: false, default: false },
          { name: "sign", type: "string", required: false },
        ],
      },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const url = `/v1/knowledge/templates/${made.body.id}/use`;
    const used = await call("POST", url, {
      token: member,
      body: { variables: { name: "Ada", count: 2, items: ["review", "{{name}}"] } },
    });
    assert.equal(used.status, 200, JSON.stringify(used.body));
    assert.equal(used.body.content, "Hello Ada, you have 2 tasks: review, {{name}}. Urgent: false. ");
    assert.equal(used.body.usageCount, 1);

    const wrong = await call("POST", url, {
      token: member,
      body: { variables: { count: "two", items: "review", extra: 1 } },
    });
    assert.equal(wrong.status, 400);
    const problems = Object.fromEntries(
      wrong.body.error.details.fields.map((f: { field: string; code: string }) => [f.field, f.code]),
    );
    assert.deepEqual(problems, {
      "body.variables.name": "missing",
      "body.variables.count": "type",
      "body.variables.items": "type",
      "body.variables.extra": "unknown_variable",
    });
    const count = await call("GET", `/v1/knowledge/templates/${made.body.id}`, { token: member });
    assert.equal(count.body.usageCount, 1, "a refused use is not counted");

    const undeclared = await call("POST", "/v1/knowledge/templates", {
      token: admin,
      body: { key: "broken", name: "Broken", category: "docs", content: "Hi {{who}}", variables: [] },
    });
    assert.equal(undeclared.status, 400);
    assert.equal(undeclared.body.error.details.fields[0].code, "undeclared_variable");
    const badDefault = await call("PATCH", `/v1/knowledge/templates/${made.body.id}`, {
      token: admin,
      body: { variables: [{ name: "name", type: "number", required: false, default: "x" }] },
    });
    assert.equal(badDefault.status, 400, "a patch is checked as merged with the stored template");

    const starter = (await call("GET", "/v1/knowledge/templates?system=true&limit=100", { token: anonymous })).body
      .items;
    const adr = starter.find((t: { key: string }) => t.key === "adr");
    const filled = await call("POST", `/v1/knowledge/templates/${adr.id}/use`, {
      token: anonymous,
      body: {
        variables: {
          title: "Use Postgres",
          date: "2026-11-30",
          context: "We need a database.",
          decision: "Postgres.",
          consequences: "One more server.",
        },
      },
    });
    assert.equal(filled.status, 200, JSON.stringify(filled.body));
    assert.match(filled.body.content, /^# Use Postgres\n\nStatus: proposed\n/);
  });

  it("finds entries by full text and by hybrid search, only those the caller may read", async () => {
    const vectors = await embeddedCount(platform, RULE_SOURCE, STARTER_RULES.length + 2);
    assert.equal(vectors.length, STARTER_RULES.length + 2, "the starter rules and the team's two are embedded");
    const text = await call("GET", "/v1/knowledge/search?q=SQL%20concatenating%20values&mode=text", {
      token: anonymous,
    });
    assert.equal(text.status, 200);
    assert.equal(text.body.items[0]?.kind, "knowledge_rule");
    assert.equal(text.body.items[0]?.title, "Never build SQL by concatenating values");
    assert.ok(text.body.items.every((i: { signals: { trigram: unknown } }) => i.signals.trigram === null));

    const hybrid = await call("GET", "/v1/knowledge/search?q=error%20handling&kinds=rule", { token: member });
    assert.equal(hybrid.status, 200);
    assert.ok(hybrid.body.items.some((i: { title: string }) => i.title === "Rule team-001 about error handling"));
    assert.ok(hybrid.body.items.every((i: { kind: string }) => i.kind === "knowledge_rule"));
    const outside = await call("GET", "/v1/knowledge/search?q=error%20handling&kinds=rule", { token: outsider });
    assert.ok(!outside.body.items.some((i: { title: string }) => i.title.startsWith("Rule team-")));
    const badKinds = await call("GET", "/v1/knowledge/search?q=x&kinds=rule,secret", { token: member });
    assert.equal(badKinds.status, 400);
  });

  it("archives entries inactive for two years, with their vectors, and leaves the rest", async () => {
    const old = await call("POST", "/v1/knowledge/practices", {
      token: admin,
      body: { key: "old-practice", category: "process", title: "Weekly status mails", description: "Send them." },
    });
    const recent = await call("POST", "/v1/knowledge/practices", {
      token: admin,
      body: { key: "recent-practice", category: "process", title: "Daily notes", description: "Write them." },
    });
    for (const made of [old, recent]) {
      assert.equal((await call("DELETE", `/v1/knowledge/practices/${made.body.id}`, { token: admin })).status, 204);
    }
    await platform.database.db
      .updateTable("knowledge_practices")
      .set({ deactivated_at: sql`now() - interval '2 years 1 day'` })
      .where("id", "=", old.body.id)
      .execute();
    assert.equal(await archiveInactiveEntries(platform), 1);
    const archived = await platform.database.db
      .selectFrom("knowledge_practices_archive")
      .select(["practice_id", "title", "archived_at"])
      .execute();
    assert.deepEqual(
      archived.map((r) => [r.practice_id, r.title]),
      [["old-practice", "Weekly status mails"]],
    );
    assert.equal((await call("GET", `/v1/knowledge/practices/${old.body.id}`, { token: admin })).status, 404);
    assert.equal((await call("GET", `/v1/knowledge/practices/${recent.body.id}`, { token: admin })).status, 200);
    const vectors = await platform.database.db
      .selectFrom("embedding_outbox")
      .select("resource_id")
      .where("resource_id", "=", old.body.id)
      .execute();
    assert.equal(vectors.length, 0);
    assert.equal(await archiveInactiveEntries(platform), 0, "nothing is archived twice");
  });
});
