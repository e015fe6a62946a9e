import { Cron } from "croner";
import { errors } from "../errors/catalog.ts";

/** A parsed cron expression (croner: five or six fields, UTC unless a zone is given). */
export function parseCron(expression: string, timezone = "UTC"): Cron {
  try {
    return new Cron(expression, { timezone, paused: true });
  } catch (error) {
    throw errors.invalidCronExpression(expression, error instanceof Error ? error.message : String(error));
  }
}

/**
 * The slots a schedule should have fired in by `now`, oldest first: those in
 * the last `catchUpMs`, at most `maxSlots` of them (the newest). After
 * downtime, a schedule catches up this much and no more.
 */
export function dueSlots(cron: Cron, now: number, catchUpMs: number, maxSlots: number): Date[] {
  const slots: Date[] = [];
  let cursor: Date | null = new Date(now - catchUpMs);
  for (;;) {
    cursor = cron.nextRun(cursor);
    if (!cursor || cursor.getTime() > now) break;
    slots.push(cursor);
    if (slots.length > maxSlots) slots.shift();
  }
  return slots;
}
