/**
 * What ws_client.ts knows of each conversation's sequence: for conversation key K, every seq up
 * to `lastSeq(K)` was seen (or predates what the client follows), plus the seqs seen beyond it.
 * A seq seen twice is a duplicate (live push and catch-up overlap: delivery is at-least-once);
 * a hole above `lastSeq` is a gap the client fills with a sync from `lastSeq`.
 */

interface Track {
  lastSeq: number;
  above: Set<number>;
}

export type Noted = "duplicate" | "next" | "gap";

export class SeqTracker {
  readonly #tracks = new Map<string, Track>();

  /** The seq up to which the conversation is complete (0 when it is not followed). */
  lastSeq(key: string): number {
    return this.#tracks.get(key)?.lastSeq ?? 0;
  }

  has(key: string): boolean {
    return this.#tracks.has(key);
  }

  /** Starts following a conversation from `lastSeq` (what came before is history). */
  follow(key: string, lastSeq: number): void {
    if (!this.#tracks.has(key)) this.#tracks.set(key, { lastSeq, above: new Set() });
  }

  /** Whether seqs above the complete part were seen (a hole waits to be filled). */
  hasGap(key: string): boolean {
    return (this.#tracks.get(key)?.above.size ?? 0) > 0;
  }

  /**
   * Records a seq. The first seq of a conversation not followed yet starts it (the ones before
   * are history). "duplicate": seen before; "gap": new, with a hole before it.
   */
  note(key: string, seq: number): Noted {
    let track = this.#tracks.get(key);
    if (!track) this.#tracks.set(key, track = { lastSeq: seq - 1, above: new Set() });
    if (seq <= track.lastSeq || track.above.has(seq)) return "duplicate";
    if (seq !== track.lastSeq + 1) {
      track.above.add(seq);
      return "gap";
    }
    track.lastSeq = seq;
    this.#settle(track);
    return "next";
  }

  /**
   * After a sync page that started at `lastSeq`: the page holds every message that still exists
   * in its range, so seqs missing from it are gone for good (retention) and are stepped over.
   */
  pageDone(
    key: string,
    page: { messages: readonly { seq?: number }[]; hasMore: boolean; lastSeq: number },
  ): void {
    const track = this.#tracks.get(key);
    if (!track) return;
    const last = page.messages.at(-1)?.seq ?? track.lastSeq;
    track.lastSeq = Math.max(track.lastSeq, page.hasMore ? last : Math.max(last, page.lastSeq));
    for (const s of track.above) if (s <= track.lastSeq) track.above.delete(s);
    this.#settle(track);
  }

  #settle(track: Track): void {
    while (track.above.delete(track.lastSeq + 1)) track.lastSeq++;
  }
}
