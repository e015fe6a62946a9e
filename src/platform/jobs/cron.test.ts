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
