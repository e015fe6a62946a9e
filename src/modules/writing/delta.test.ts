import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyDelta, planStorage } from "./delta.ts";

function restore(base: string, plan: { storage: string; body: string }): string {
  return plan.storage === "snapshot" ? plan.body : applyDelta(base, plan.body);
}

describe("differential storage", () => {
  it("stores a small edit as a patch that restores exactly", () => {
    const base = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    const content = `${base.slice(0, 500)}really ${base.slice(500)}`;
    const plan = planStorage(content, { content: base, dependents: 3 });
    assert.equal(plan.storage, "delta");
    assert.ok(plan.body.length < 200);
    assert.equal(restore(base, plan), content);
  });

  it("never keeps a patch that does not restore, whatever the script (accents, CJK, emoji)", () => {
    const paragraphs = [
      "La crème brûlée était délicieuse, et le café aussi. Où est la bibliothèque ? ",
      "東京は日本の首都です。天気はとても良いです。 ",
      "Emoji test 😀 with 🎉 party and 👩‍💻 people. ",
    ];
    let checked = 0;
    for (const paragraph of paragraphs) {
      const base = paragraph.repeat(60);
      let state = 7;
      const random = () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
        return state / 2 ** 31;
      };
      for (let i = 0; i < 150; i++) {
        const at = Math.floor(random() * base.length);
        const at2 = Math.floor(random() * base.length);
        const edited = `${base.slice(0, at)}é ${base.slice(at, at2)}${base.slice(at2 + 5)}`;
        const plan = planStorage(edited, { content: base, dependents: 1 });
        assert.equal(restore(base, plan), edited, `${paragraph.slice(0, 10)} #${i}`);
        checked++;
      }
    }
    const emojiBase = "Hi 😀\n\n";
    const emoji = planStorage("Hi 😁\nok", { content: emojiBase, dependents: 0 });
    assert.equal(restore(emojiBase, emoji), "Hi 😁\nok");
    assert.equal(checked, 450);
  });

  it("takes a snapshot when there is none, when the patch is too big, and every 100 versions", () => {
    assert.equal(planStorage("x", null).storage, "snapshot");
    assert.equal(
      planStorage("completely different text", { content: "something else entirely", dependents: 1 }).storage,
      "snapshot",
    );
    const base = "a".repeat(10_000);
    assert.equal(planStorage(`${base}b`, { content: base, dependents: 99 }).storage, "snapshot");
  });
});
