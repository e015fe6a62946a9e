// @ts-nocheck
import { sql } from "kysely";
import { buildServer } from "../src/http/server.ts";
import { writingModule } from "../src/modules/writing/index.ts";
import { createMigrator } from "../src/runtime/migrations.ts";
import { openTestPlatform } from "../test/support/embedded.ts";
export async function main() {
  const { platform, dispose } = await openTestPlatform();
  await createMigrator(platform.database, [writingModule]).up();
  const app = await buildServer(platform, [writingModule]);
  const reg = await app.inject({
    method: "POST",
    url: "/v1/auth/register",
    payload: { email: "a@b.co", password: "correct horse battery staple 42", name: "A" },
  });
  const { accessToken, organizationId } = reg.json();
  await sql`update organizations set settings = settings || '{"rate_limits": {"api": 100000000}}'::jsonb where id = ${organizationId}`.execute(
    platform.database.db,
  );
  const { forgetOrganizationLimits } = await import("../src/http/rate-limit.ts");
  await forgetOrganizationLimits(platform, organizationId);
  const doc = (
    await app.inject({
      method: "POST",
      url: "/v1/documents",
      headers: { authorization: `Bearer ${accessToken}` },
      payload: { title: "t", content: "x".repeat(4096) },
    })
  ).json();
  const { readOwnedDocument } = await import("../src/modules/writing/document-read.ts");
  const principal = await platform.identity.authenticate(`Bearer ${accessToken}`);
  const { CompiledQuery } = await import("kysely");
  const { DOCUMENT_COLUMNS } = await import("../src/modules/writing/documents.ts");
  const cols = DOCUMENT_COLUMNS.map((c) => c.slice(10)).join(", ");
  const plain = CompiledQuery.raw(
    `select ${cols} from documents where id = $1 and user_id = $2 and deleted_at is null`,
    [doc.id, principal.userId],
  );
  const touchOnly = CompiledQuery.raw(
    `update documents set last_accessed_at = now() where id = $1 and last_accessed_at < now() - interval '1 minute'`,
    [doc.id],
  );
  const cteNoUpd = CompiledQuery.raw(
    `with doc as (select ${cols} from documents where id = $1 and user_id = $2 and deleted_at is null) select * from doc`,
    [doc.id, principal.userId],
  );
  for (const label of ["inject", "inject", "inject", "inject", "inject", "inject"]) {
    const n = 500;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      if (label === "stmt") await readOwnedDocument(platform, principal!, doc.id);
      else if (label === "plain") await platform.database.db.executeQuery(plain);
      else if (label === "touch") await platform.database.db.executeQuery(touchOnly);
      else if (label === "cte") await platform.database.db.executeQuery(cteNoUpd);
      else if (label === "select1") await sql`select 1`.execute(platform.database.db);
      else
        await app.inject({
          method: "GET",
          url: `/v1/documents/${doc.id}`,
          headers: { authorization: `Bearer ${accessToken}` },
        });
    }
    console.log(label, ((performance.now() - t0) / n).toFixed(3), "ms each");
  }
  await dispose();
}
await main();
