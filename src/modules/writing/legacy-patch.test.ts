import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { makeDiff, makePatches, stringifyPatches } from "@sanity/diff-match-patch";
import { applyLegacyPatch } from "./legacy-patch.ts";

describe("legacy patch reader (history migration only)", () => {
  it("applies a patch written in the earlier form", () => {
    const base = "The quick brown fox jumps over the lazy dog. ".repeat(20);
    const content = `${base.slice(0, 300)}really ${base.slice(300)}`;
    const patch = stringifyPatches(makePatches(base, makeDiff(base, content)));
    assert.equal(applyLegacyPatch(base, patch), content);
  });

  it("refuses a patch that does not fit its snapshot", () => {
    const base = "alpha beta gamma delta ".repeat(10);
    const patch = stringifyPatches(makePatches(base, makeDiff(base, base.replace("gamma", "GAMMA"))));
    assert.throws(() => applyLegacyPatch("something else entirely, nothing in common", patch), /did not apply/);
  });
});
