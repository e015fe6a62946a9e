import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DatabaseBreaker } from "./database-breaker.ts";
import { DatabaseUnavailableError } from "./sqlstate.ts";

const outage = () => Promise.reject(new DatabaseUnavailableError(new Error("connect ECONNREFUSED")));
const badQuery = () => Promise.reject(Object.assign(new Error("duplicate key"), { code: "23505" }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the database circuit breaker", () => {
  it("opens after three consecutive outages, and then refuses at once with the wait until the probe", async () => {
    const breaker = new DatabaseBreaker({ failures: 3, halfOpenAfterMs: 30_000 });
    for (let i = 0; i < 2; i++) await assert.rejects(breaker.execute(outage));
    assert.equal(breaker.state, "closed");
    assert.equal(await breaker.execute(async () => "fine"), "fine", "a success resets the count");
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(outage));
    assert.equal(breaker.state, "open");
    assert.ok(breaker.openedAt);
    let ran = false;
    await assert.rejects(
      breaker.execute(async () => {
        ran = true;
      }),
      (error: unknown) => {
        assert.ok(error instanceof DatabaseUnavailableError);
        assert.ok(error.retryAfterSeconds >= 29 && error.retryAfterSeconds <= 30, `${error.retryAfterSeconds}`);
        return true;
      },
    );
    assert.equal(ran, false, "nothing reaches the database while it is open");
  });

  it("does not count a bad query as an outage", async () => {
    const breaker = new DatabaseBreaker({ failures: 3, halfOpenAfterMs: 30_000 });
    for (let i = 0; i < 5; i++) await assert.rejects(breaker.execute(badQuery), /duplicate key/);
    assert.equal(breaker.state, "closed");
  });

  it("lets one probe through after the wait; the others wait for its outcome without reaching the database", async () => {
    const breaker = new DatabaseBreaker({ failures: 3, halfOpenAfterMs: 200 });
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(outage));
    await sleep(250);
    let release: () => void = () => {};
    const probe = breaker.execute(() => new Promise<string>((resolve) => (release = () => resolve("probe"))));
    assert.equal(breaker.state, "half_open");
    const ran: string[] = [];
    const second = breaker.execute(async () => {
      ran.push("second");
      return "second";
    });
    await sleep(50);
    assert.deepEqual(ran, [], "nothing but the probe runs while it is out");
    release();
    assert.equal(await probe, "probe");
    assert.equal(await second, "second");
    assert.equal(breaker.state, "closed");
    assert.equal(breaker.openedAt, null);
    assert.equal(await breaker.execute(async () => "after"), "after");
  });

  it("opens again when the probe fails, and what waited on it is refused", async () => {
    const breaker = new DatabaseBreaker({ failures: 3, halfOpenAfterMs: 100 });
    for (let i = 0; i < 3; i++) await assert.rejects(breaker.execute(outage));
    await sleep(150);
    const probe = breaker.execute(outage);
    const waiting = breaker.execute(async () => "never");
    await assert.rejects(probe);
    await assert.rejects(waiting, DatabaseUnavailableError);
    assert.equal(breaker.state, "open");
  });
});
