import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { BatchedCalls } from "./batched-calls.ts";

describe("BatchedCalls", () => {
  it("sends the calls of one turn together, and those made while a send is in flight together next", async () => {
    const sent: number[][] = [];
    let finish = () => {};
    const calls = new BatchedCalls<number, string>(async (items) => {
      sent.push(items);
      if (sent.length === 1) await new Promise<void>((resolve) => (finish = resolve));
      return items.map((n) => `#${n}`);
    });
    const first = [calls.call(1), calls.call(2)];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [[1, 2]], "one send for the turn's calls");
    const later = [calls.call(3), calls.call(4), calls.call(5)];
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sent, [[1, 2]], "nothing more while the first is in flight");
    finish();
    assert.deepEqual(await Promise.all([...first, ...later]), ["#1", "#2", "#3", "#4", "#5"]);
    assert.deepEqual(sent, [
      [1, 2],
      [3, 4, 5],
    ]);
  });

  it("bounds a batch, and rejects every call of a batch whose send failed, leaving the next ones be", async () => {
    const sent: number[][] = [];
    const calls = new BatchedCalls<number, number>(async (items) => {
      sent.push(items);
      if (items.includes(2)) throw new Error("statement failed");
      return items;
    }, 2);
    const results = await Promise.allSettled([1, 2, 3].map((n) => calls.call(n)));
    assert.deepEqual(sent, [[1, 2], [3]]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected", "fulfilled"],
    );
    assert.equal(await calls.call(7), 7, "usable after a failure");
  });
});
