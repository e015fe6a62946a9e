import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ChangesClient } from "../support/changes-client.ts";
import { exitOf, runCli, startCommand } from "../support/cli.ts";
import { httpClient } from "../support/http.ts";
import { createScratchDatabase } from "../support/postgres.ts";
import { services, TEST_SIGNING_SECRET } from "../support/services.ts";
import { TEST_PASSWORD } from "../support/writing-fixtures.ts";

/**
 * Two `strata serve --workers` processes of one deployment (one Postgres,
 * one Redis): a change committed through one reaches a subscriber of the
 * other exactly once, in order, whichever process relays it.
 */
describe("change feed across two server processes (Postgres and Redis)", () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const servers: { child: ChildProcess; base: string; dir: string }[] = [];
  const clients: ChangesClient[] = [];

  before(async () => {
    scratch = await createScratchDatabase();
    const env = {
      DATABASE_URL: scratch.url,
      STRATA_SIGNING_SECRET: TEST_SIGNING_SECRET,
      REDIS_URL: services.redisUrl,
      KV_KEY_PREFIX: `test:${randomUUID()}:`,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    };
    const migrated = await runCli(["migrate", "up"], env);
    assert.equal(migrated.code, 0, migrated.stderr);
    for (let i = 0; i < 2; i++) {
      const dir = await mkdtemp(path.join(tmpdir(), "strata-feed-"));
      const started = await startCommand(
        ["serve", "--workers"],
        { ...env, STRATA_DATA_DIR: dir },
        /"workers started"[\s\S]*|listening on (http:\/\/\S+:\d+)[\s\S]*"workers started"/,
      );
      const base = /listening on (http:\/\/\S+:\d+)/.exec(started.output())?.[1];
      assert.ok(base, started.output());
      servers.push({ child: started.child, base, dir });
    }
  });
  after(async () => {
    for (const c of clients) c.close();
    for (const server of servers) {
      server.child.kill("SIGTERM");
      await exitOf(server.child);
      await rm(server.dir, { recursive: true, force: true });
    }
    await scratch?.drop();
  });

  it("delivers what one process commits to the other's subscriber exactly once, in order", async () => {
    const [one, two] = servers as [(typeof servers)[number], (typeof servers)[number]];
    const registered = await httpClient(one.base)("POST", "/v1/auth/register", {
      email: `p-${randomUUID().slice(0, 8)}@example.com`,
      password: TEST_PASSWORD,
      name: "P",
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    const token = registered.body.accessToken as string;
    const first = httpClient(one.base, { token });
    const onSecond = await ChangesClient.connect(two.base, token);
    clients.push(onSecond);
    await onSecond.subscribe(["knowledge"]);
    const made: string[] = [];
    // Written through the first process, in concurrent pairs, so the relays of both processes' workers race.
    for (let i = 0; i < 10; i += 2) {
      const pair = await Promise.all(
        [i, i + 1].map((n) =>
          first("POST", "/v1/knowledge/rules", {
            key: `two-${n}`,
            category: "feed",
            title: `Rule ${n}`,
            description: "Written through the first process.",
            severity: "INFO",
            enforcement: "optional",
          }),
        ),
      );
      for (const res of pair) {
        assert.equal(res.status, 201, JSON.stringify(res.body));
        made.push(res.body.id);
      }
    }
    await onSecond.next(() => made.every((id) => onSecond.changes().some((c) => c.subject === id)), 0, 15_000);
    // Nothing more arrives later (no duplicate from the other process's relay or the sweep).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const changes = onSecond.changes();
    assert.deepEqual(changes.map((c) => c.subject).sort(), [...made].sort(), "each change once");
    const positions = changes.map((c) => c.position as number);
    for (let i = 1; i < positions.length; i++) {
      assert.equal(positions[i], (positions[i - 1] as number) + 1, "in order, and none missing");
    }
  });
});
