import type { ScoredMember } from "./kv-store.ts";

/**
 * A sorted set with Redis' ordering (score, then member bytewise): a map for
 * O(1) score lookups and a sorted array for ranges, kept ordered by binary
 * insertion. Good for the sizes an embedded deployment holds per key.
 */
export class SortedSet {
  readonly #scores = new Map<string, number>();
  readonly #ordered: ScoredMember[] = [];

  get size(): number {
    return this.#ordered.length;
  }

  score(member: string): number | null {
    return this.#scores.get(member) ?? null;
  }

  /** Returns true when the member is new. */
  add(member: string, score: number): boolean {
    const existing = this.#scores.get(member);
    if (existing !== undefined) {
      if (existing === score) return false;
      this.#ordered.splice(this.#indexOf(member, existing), 1);
    }
    this.#scores.set(member, score);
    this.#ordered.splice(this.#lowerBound(score, member), 0, { member, score });
    return existing === undefined;
  }

  remove(member: string): boolean {
    const score = this.#scores.get(member);
    if (score === undefined) return false;
    this.#ordered.splice(this.#indexOf(member, score), 1);
    this.#scores.delete(member);
    return true;
  }

  /** Index range [start, end) of members with min <= score <= max. */
  #scoreRange(min: number, max: number): [number, number] {
    const start = this.#lowerBound(min, null);
    let end = start;
    while (end < this.#ordered.length && (this.#ordered[end] as ScoredMember).score <= max) end++;
    return [start, end];
  }

  rangeByScore(min: number, max: number, offset = 0, count = Number.POSITIVE_INFINITY): ScoredMember[] {
    const [start, end] = this.#scoreRange(min, max);
    const from = start + offset;
    return this.#ordered.slice(from, Math.min(end, from + count)).map((m) => ({ ...m }));
  }

  removeRangeByScore(min: number, max: number): number {
    const [start, end] = this.#scoreRange(min, max);
    for (const m of this.#ordered.splice(start, end - start)) this.#scores.delete(m.member);
    return end - start;
  }

  rangeByRank(start: number, stop: number, reverse: boolean): ScoredMember[] {
    const n = this.#ordered.length;
    const from = start < 0 ? Math.max(0, n + start) : start;
    const to = Math.min(n - 1, stop < 0 ? n + stop : stop);
    if (from > to) return [];
    const source = reverse ? [...this.#ordered].reverse() : this.#ordered;
    return source.slice(from, to + 1).map((m) => ({ ...m }));
  }

  /** First index whose (score, member) is not less than (score, member); a null member sorts first. */
  #lowerBound(score: number, member: string | null): number {
    let lo = 0;
    let hi = this.#ordered.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = this.#ordered[mid] as ScoredMember;
      const less = m.score < score || (m.score === score && member !== null && m.member < member);
      if (less) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  #indexOf(member: string, score: number): number {
    return this.#lowerBound(score, member);
  }
}
