import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AppError } from "../errors/app-error.ts";
import { dueSlots, parseCron } from "./cron.ts";

describe("cron schedules", () => {
  it("refuses an expression that does not parse with a 400 error code", () => {
    assert.throws(
      () => parseCron("every minute please"),
      (error) => error instanceof AppError && error.code === "invalid_cron_expression" && error.statusCode === 400,
    );
  });
  it("lists the slots due, bounded after downtime", () => {
    const cron = parseCron("*/5 * * * *");
    const now = Date.parse("2026-03-01T12:07:30Z");
    assert.deepEqual(
      dueSlots(cron, now, 10 * 60_000, 10).map((d) => d.toISOString()),
      ["2026-03-01T12:00:00.000Z", "2026-03-01T12:05:00.000Z"],
    );
    // Down for a day: only the newest slot runs, not 288 of them.
    assert.deepEqual(
      dueSlots(cron, now, 24 * 3_600_000, 1).map((d) => d.toISOString()),
      ["2026-03-01T12:05:00.000Z"],
    );
  });
});

describe("due slots after long downtime", () => {
  it("finds the newest slots of a frequent schedule without walking the whole window", () => {
    const cron = parseCron("*/10 * * * * *");
    const now = Date.parse("2026-03-01T12:07:35Z");
    let evaluations = 0;
    const nextRun = cron.nextRun.bind(cron);
    cron.nextRun = (from) => {
      evaluations++;
      return nextRun(from);
    };
    dueSlots(cron, now, 60 * 60_000, 1);
    assert.deepEqual(
      dueSlots(cron, now, 60 * 60_000, 3).map((d) => d.toISOString()),
      ["2026-03-01T12:07:10.000Z", "2026-03-01T12:07:20.000Z", "2026-03-01T12:07:30.000Z"],
    );
    // A whole-window walk is 360 evaluations; a windowed one a handful.
    assert.ok(evaluations < 40, `${evaluations} cron evaluations for one slot`);
  });
  it("widens the window for an irregular schedule", () => {
    const cron = parseCron("0 9 * * 1-5"); // weekday mornings
    const monday = Date.parse("2026-03-02T10:00:00Z");
    assert.deepEqual(
      dueSlots(cron, monday, 7 * 24 * 3_600_000, 2).map((d) => d.toISOString()),
      ["2026-02-27T09:00:00.000Z", "2026-03-02T09:00:00.000Z"],
    );
    assert.deepEqual(dueSlots(cron, monday, 30 * 60_000, 2), []);
  });
});
