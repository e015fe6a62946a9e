import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyDelta as libraryApply } from "fossil-delta";
import {
  applyDelta,
  decodeObject,
  type EncodedObject,
  encodeObject,
  MAX_ANCHOR_DEPTH,
  makeDelta,
  nextPlacement,
  RUN_LENGTH,
  restoreChain,
  restoreFrom,
  sha256Hex,
} from "./object-codec.ts";

function generator(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

const SCRIPTS = [
  "The quick brown fox jumps over the lazy dog. ",
  "La crème brûlée était délicieuse, et le café aussi. Où est la bibliothèque ? ",
  "東京は日本の首都です。天気はとても良いです。 ",
  "Emoji 😀 with 🎉 party, 👩‍💻 people and 🇫🇷 flags. ",
  "مرحبا بالعالم، هذا نص عربي. ",
];

/**
 * A random edit at any character (code point), mixing scripts; the deltas
 * underneath work on bytes, so their copies cut multi-byte characters apart
 * freely.
 */
function edit(text: string, random: () => number, alphabet: string): string {
  const chars = Array.from(text);
  const letters = Array.from(alphabet);
  const at = Math.floor(random() * chars.length);
  const insert = Array.from(
    { length: Math.floor(random() * 30) },
    () => letters[Math.floor(random() * letters.length)],
  );
  chars.splice(at, Math.floor(random() * 40), ...(insert as string[]));
  return chars.join("");
}

describe("content object codec", () => {
  it("stores a small edit as a small delta that restores exactly", async () => {
    const base = Buffer.from(SCRIPTS[0]?.repeat(400) as string);
    const next = Buffer.from(`${base.toString().slice(0, 5000)}really ${base.toString().slice(5000)}`);
    const encoded = await encodeObject(next, [base]);
    assert.equal(encoded.kind, "delta");
    assert.ok(encoded.body.byteLength < 100, `delta of ${encoded.body.byteLength} bytes`);
    assert.deepEqual(await decodeObject(encoded, base), next);
  });

  it("deltas against the candidate base with the shortest delta, and says which", async () => {
    const shared = Buffer.from(SCRIPTS[1]?.repeat(200) as string);
    const section = Buffer.from(Array.from({ length: 300 }, (_, i) => `line ${i * 7919} `).join(""));
    const withSection = Buffer.concat([shared, section]);
    const next = Buffer.concat([shared, section, Buffer.from(" and a new sentence")]);
    const encoded = await encodeObject(next, [shared, withSection]);
    assert.equal(encoded.kind, "delta");
    assert.equal(encoded.baseIndex, 1, "the base that already has the section");
    assert.deepEqual(await decodeObject(encoded, withSection), next);
    // On a tie the first candidate (the current object) wins.
    assert.equal((await encodeObject(next, [withSection, withSection])).baseIndex, 0);
    assert.equal((await encodeObject(next, [])).baseIndex, null);
  });

  it("makes a keyframe without a base, or when a delta would not pay", async () => {
    const a = Buffer.from("first text ".repeat(100));
    const b = Buffer.from(Array.from({ length: 1100 }, (_, i) => String.fromCharCode(33 + ((i * 7919) % 90))).join(""));
    assert.equal((await encodeObject(a, [])).kind, "keyframe");
    const rewritten = await encodeObject(b, [a]);
    assert.equal(rewritten.kind, "keyframe");
    assert.deepEqual(await decodeObject(rewritten, null), b);
    assert.ok((await encodeObject(a, [])).body.byteLength < a.byteLength / 10, "keyframes are compressed");
  });

  it("restores every version of random edit chains in every script, byte for byte", async () => {
    for (const [i, paragraph] of SCRIPTS.entries()) {
      const random = generator(11 + i);
      let text = paragraph.repeat(80);
      let previous: Buffer | null = null;
      const chain: EncodedObject[] = [];
      for (let n = 0; n < 40; n++) {
        const alphabet = SCRIPTS[Math.floor(random() * SCRIPTS.length)] as string;
        text = edit(text, random, alphabet);
        const bytes = Buffer.from(text, "utf8");
        const encoded = await encodeObject(bytes, previous ? [previous] : []);
        if (encoded.kind === "keyframe") chain.length = 0;
        chain.push(encoded);
        const restored = await restoreChain(chain);
        assert.equal(sha256Hex(restored), sha256Hex(bytes), `script ${i}, edit ${n}`);
        assert.equal(restored.toString("utf8"), text);
        previous = bytes;
      }
    }
  });

  it("applies deltas exactly as the library's own applier does, and refuses damaged ones", () => {
    const random = generator(5);
    for (let n = 0; n < 200; n++) {
      const base = Buffer.from(Array.from({ length: Math.floor(random() * 3000) }, () => Math.floor(random() * 256)));
      const target = Buffer.concat([
        base.subarray(0, Math.floor(random() * base.length)),
        Buffer.from(Array.from({ length: Math.floor(random() * 200) }, () => Math.floor(random() * 256))),
        base.subarray(Math.floor(random() * base.length)),
      ]);
      const delta = makeDelta(base, target);
      const ours = applyDelta(base, delta);
      assert.deepEqual(ours, target);
      assert.deepEqual(Buffer.from(libraryApply(base, delta)), ours);
    }
    const base = Buffer.from("abcdefghij".repeat(50));
    const delta = makeDelta(base, Buffer.from(`${"abcdefghij".repeat(25)}XYZ${"abcdefghij".repeat(25)}`));
    assert.throws(() => applyDelta(base.subarray(0, 100), delta), /past the end of the base/);
    assert.throws(() => applyDelta(base, delta.subarray(0, delta.length - 3)), /delta:/);
    assert.throws(() => applyDelta(base, Buffer.from("zz")), /delta:/);
  });

  it("restores from a held content without writing to it, through versions that grow and shrink", async () => {
    const random = generator(3);
    const versions = [Buffer.from(SCRIPTS[2]?.repeat(300) as string)];
    for (let n = 0; n < 30; n++) {
      const text = (versions.at(-1) as Buffer).toString();
      const next =
        n % 7 === 6 ? text.slice(0, text.length / 2) : edit(text, random, SCRIPTS[n % SCRIPTS.length] as string);
      versions.push(Buffer.from(next));
    }
    const objects: EncodedObject[] = [];
    for (let n = 1; n < versions.length; n++)
      objects.push(await encodeObject(versions[n] as Buffer, [versions[n - 1] as Buffer]));
    const start = Buffer.from(versions[0] as Buffer);
    const restored = await restoreFrom({ start, objects });
    assert.deepEqual(restored, versions.at(-1));
    assert.deepEqual(start, versions[0], "the held content is untouched");
    const again = await restoreFrom({ start, objects: objects.slice(0, 10) });
    assert.deepEqual(again, versions[10]);
    assert.deepEqual(restored, versions.at(-1), "an earlier result is not reused as a scratch buffer");
  });

  it("refuses a chain that does not start at a keyframe", async () => {
    const base = Buffer.from("abc def ghi ".repeat(200));
    const delta = await encodeObject(Buffer.concat([base, Buffer.from("jkl")]), [base]);
    assert.equal(delta.kind, "delta");
    await assert.rejects(restoreChain([delta]), /keyframe/);
  });

  it("places objects in runs on anchors, restarting with a keyframe, so no chain exceeds 48 deltas", () => {
    let at: { depth: number; run: number } | null = null;
    const seen = { run: 0, anchor: 0, keyframe: 0 };
    let deepest = 0;
    for (let i = 0; i < 2000; i++) {
      const placement = nextPlacement(at);
      seen[placement]++;
      const prev: { depth: number; run: number } = at ?? { depth: 0, run: 0 };
      if (placement === "keyframe") at = { depth: 0, run: 0 };
      else if (placement === "anchor") at = { depth: prev.depth - prev.run + 1, run: 0 };
      else at = { depth: prev.depth + 1, run: prev.run + 1 };
      deepest = Math.max(deepest, at.depth);
    }
    assert.equal(deepest, MAX_ANCHOR_DEPTH + RUN_LENGTH);
    const cycle = 1 + MAX_ANCHOR_DEPTH + (MAX_ANCHOR_DEPTH + 1) * RUN_LENGTH;
    assert.equal(seen.keyframe, Math.ceil(2000 / cycle));
    assert.ok(seen.anchor > seen.keyframe && seen.run > seen.anchor);
  });
});
