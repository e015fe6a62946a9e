import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Foreground } from "./foreground.ts";

const settled = async (promise: Promise<void>, withinMs: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), withinMs))]);

describe("foreground requests before background steps", () => {
  it("lets a background step go at once when no request is in flight", async () => {
    assert.equal(await settled(new Foreground(true).quiet(), 5), true);
  });

  it("holds a step while a request is in flight and releases it when the last one ends", async () => {
    const foreground = new Foreground(true, 60_000);
    const leaveA = foreground.enter();
    const leaveB = foreground.enter();
    const step = foreground.quiet();
    leaveA();
    leaveA(); // ending twice counts once
    assert.equal(foreground.inFlight, 1);
    assert.equal(await settled(step, 20), false, "one request is still in flight");
    leaveB();
    assert.equal(await settled(step, 20), true);
    assert.equal(foreground.inFlight, 0);
  });

  it("never starves background work: a step goes ahead after the longest wait", async () => {
    const foreground = new Foreground(true, 30);
    foreground.enter();
    const began = performance.now();
    await foreground.quiet();
    assert.ok(performance.now() - began >= 25);
  });

  it("does not hold anything back on a database with its own processes", async () => {
    const foreground = new Foreground(false);
    foreground.enter();
    assert.equal(await settled(foreground.quiet(), 5), true);
  });
});
