import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isUuid, uuidv7 } from "./ids.ts";

describe("uuidv7", () => {
  it("is a version 7 UUID carrying the milliseconds", () => {
    const id = uuidv7(Date.UTC(2030, 0, 1));
    assert.ok(isUuid(id));
    assert.equal(id[14], "7");
    assert.match(id[19] ?? "", /[89ab]/);
    assert.equal(Number.parseInt(id.replaceAll("-", "").slice(0, 12), 16), Date.UTC(2030, 0, 1));
  });

  it("increases strictly, within one millisecond too and past its sequence", () => {
    const now = Date.UTC(2031, 0, 1);
    const ids = Array.from({ length: 10_000 }, () => uuidv7(now));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});
