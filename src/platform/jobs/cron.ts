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
 *
 * Walking every slot of the window costs a cron evaluation each (an hour of
 * a ten-second schedule is 360 of them, some 80 ms of the event loop on
 * every tick); only the newest `maxSlots` are wanted, so the walk starts a
 * few periods back and widens until it finds them or covers the window.
 */
export function dueSlots(cron: Cron, now: number, catchUpMs: number, maxSlots: number): Date[] {
  const following = cron.nextRun(new Date(now));
  const after = following ? cron.nextRun(following) : null;
  let span = following && after ? (after.getTime() - following.getTime()) * (maxSlots + 1) : catchUpMs;
  for (;;) {
    span = Math.min(span, catchUpMs);
    const slots = slotsSince(cron, now - span, now, maxSlots);
    if (slots.length >= maxSlots || span >= catchUpMs) return slots;
    span *= 4;
  }
}

function slotsSince(cron: Cron, from: number, now: number, maxSlots: number): Date[] {
  const slots: Date[] = [];
  let cursor: Date | null = new Date(from);
  for (;;) {
    cursor = cron.nextRun(cursor);
    if (!cursor || cursor.getTime() > now) break;
    slots.push(cursor);
    if (slots.length > maxSlots) slots.shift();
  }
  return slots;
}
