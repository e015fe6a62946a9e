import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { readRealHistories } from "../../../test/support/real-histories.ts";
import { DIFF_INLINE_MAX_SPAN, displayDiffTask } from "./compute-tasks.ts";
import { changedSpan, type DisplayDiff, displayDiff } from "./display-diff.ts";

function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

// Words in several scripts, with astral characters (emoji, a CJK extension
// character) so surrogate pairs meet every cut.
const WORDS = [
  "data",
  "layer",
  "the",
  "a",
  "naïve",
  "café",
  "数据",
  "层",
  "版本",
  "😀",
  "👩‍💻",
  "𠜎",
  "Ünïcödé",
  "\n",
  "\n\n",
  ".",
  ",",
];

function randomText(random: () => number, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    out.push(WORDS[Math.floor(random() * WORDS.length)] as string);
    out.push(random() < 0.7 ? " " : "");
  }
  return out.join("");
}

/** A few insertions, deletions and replacements at random places, cut at code points (as a real editor would). */
function randomEdit(text: string, random: () => number): string {
  const edits = 1 + Math.floor(random() * 6);
  let out = Array.from(text);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * (out.length + 1));
    const cut = Math.floor(random() * 40);
    const insert = random() < 0.7 ? Array.from(randomText(random, Math.floor(random() * 8))) : [];
    out = [...out.slice(0, at), ...insert, ...out.slice(at + cut)];
  }
  return out.join("");
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The invariants every diff keeps, whatever its path (refined, line-level, coarse). */
function assertExact(diff: DisplayDiff, before: string, after: string, label: string) {
  const old = diff.changes.filter((c) => c.op !== "insert").map((c) => c.text);
  const neu = diff.changes.filter((c) => c.op !== "delete").map((c) => c.text);
  assert.equal(old.join(""), before, `${label}: equal + delete rebuild the old version`);
  assert.equal(neu.join(""), after, `${label}: equal + insert rebuild the new version`);
  const sum = (op: string) => diff.changes.filter((c) => c.op === op).reduce((n, c) => n + c.text.length, 0);
  assert.deepEqual(diff.stats, {
    insertedChars: sum("insert"),
    deletedChars: sum("delete"),
    unchangedChars: sum("equal"),
  });
  for (const [i, change] of diff.changes.entries()) {
    assert.ok(change.text.length > 0, `${label}: no empty change`);
    assert.notEqual(change.op, diff.changes[i - 1]?.op, `${label}: neighbours with the same op are merged`);
    assert.ok(!LONE_SURROGATE.test(change.text), `${label}: change ${i} does not split a surrogate pair`);
  }
}

describe("display diff", () => {
  it("shows a word inserted in a sentence as that word", () => {
    const diff = displayDiff({ before: "The cat sat on the mat.", after: "The cat sat on the red mat." });
    assert.deepEqual(diff.changes, [
      { op: "equal", text: "The cat sat on the " },
      { op: "insert", text: "red " },
      { op: "equal", text: "mat." },
    ]);
  });

  it("answers one equal change for identical texts and nothing for two empty ones", () => {
    assert.deepEqual(displayDiff({ before: "same", after: "same" }).changes, [{ op: "equal", text: "same" }]);
    assert.deepEqual(displayDiff({ before: "", after: "" }).changes, []);
    assertExact(displayDiff({ before: "", after: "new\ntext" }), "", "new\ntext", "from empty");
    assertExact(displayDiff({ before: "old\ntext", after: "" }), "old\ntext", "", "to empty");
  });

  it("rebuilds both versions exactly from random edits in mixed scripts with astral characters", () => {
    const random = generator(7);
    for (let round = 0; round < 300; round++) {
      const before = randomText(random, 20 + Math.floor(random() * 400));
      let after = before;
      const steps = 1 + Math.floor(random() * 5);
      for (let i = 0; i < steps; i++) after = randomEdit(after, random);
      assertExact(displayDiff({ before, after }), before, after, `round ${round}`);
    }
  });

  it("keeps thousands of characters unchanged for a small edit in a 40 KB text, not a handful", () => {
    const random = generator(11);
    let before = "";
    while (before.length < 40_000) before += `${randomText(random, 12)}\n`;
    const at = 20_000;
    const after = `${before.slice(0, at)} a small insertion ${before.slice(at + 5)}`;
    const diff = displayDiff({ before, after });
    assertExact(diff, before, after, "40 KB");
    assert.ok(diff.stats.unchangedChars > before.length - 200, `${diff.stats.unchangedChars} unchanged`);
    assert.ok(diff.stats.insertedChars + diff.stats.deletedChars < 200);
  });

  it("keeps a rewritten paragraph as a line-level replacement rather than confetti of common words", () => {
    const before = "intro\nthe quick brown fox jumps over the lazy dog and the cat\noutro\n";
    const after = "intro\nin a galaxy far away the empire struck back at the rebels\noutro\n";
    const diff = displayDiff({ before, after });
    assertExact(diff, before, after, "rewrite");
    assert.deepEqual(
      diff.changes.map((c) => c.op),
      ["equal", "delete", "insert", "equal"],
    );
  });

  it("stays exact and bounded past its limits: huge rewrites fall back to a coarse answer", () => {
    const random = generator(3);
    const lines = (n: number) => Array.from({ length: n }, () => `${randomText(random, 6)}\n`).join("");
    const prefix = "shared start\n";
    const suffix = "shared end\n";
    const before = prefix + lines(6_000) + suffix;
    const after = prefix + lines(6_000) + suffix;
    const diff = displayDiff({ before, after });
    assertExact(diff, before, after, "huge rewrite");
    assert.ok(diff.stats.unchangedChars >= prefix.length + suffix.length);
    // A long single-line hunk (no line breaks at all) stays line-level.
    const longBefore = randomText(random, 6_000);
    const longAfter = randomEdit(longBefore, random);
    assertExact(displayDiff({ before: longBefore, after: longAfter }), longBefore, longAfter, "one long line");
  });

  it("rebuilds every revision pair of a real history exactly, and finely", () => {
    const history = readRealHistories();
    for (const file of ["README.md", "README-zh.md"]) {
      const revisions = history.get(file) ?? [];
      assert.ok(revisions.length > 100);
      // Consecutive revisions (real edits) and far-apart ones (years of edits).
      for (let i = 1; i < revisions.length; i += 3) {
        const before = revisions[i - 1] as string;
        const after = revisions[i] as string;
        assertExact(displayDiff({ before, after }), before, after, `${file} ${i - 1}->${i}`);
      }
      const first = Math.floor(revisions.length / 4);
      const last = revisions.length - 1;
      const before = revisions[first] as string;
      const after = revisions[last] as string;
      const far = displayDiff({ before, after });
      assertExact(far, before, after, `${file} ${first}->${last}`);
      assert.ok(far.stats.unchangedChars > 3_000, `${file}: ${far.stats.unchangedChars} unchanged characters`);
    }
  });

  it("runs small spans inline and large ones on the pool, and points at the function it names", async () => {
    const big = "x".repeat(40_000);
    assert.equal(changedSpan(big, `${big.slice(0, 20_000)}yy${big.slice(20_000)}`), 2);
    assert.ok(displayDiffTask.runsInline({ before: big, after: `${big}!` }), "a small edit in a big text");
    assert.ok(!displayDiffTask.runsInline({ before: big, after: "y".repeat(40_000) }), "a rewrite of a big text");
    assert.ok(displayDiffTask.runsInline({ before: "a", after: "b".repeat(DIFF_INLINE_MAX_SPAN - 1) }));
    const module = (await import(displayDiffTask.file)) as Record<string, unknown>;
    assert.equal(module[displayDiffTask.exportName], displayDiffTask.run);
  });
});
