/** SeqTracker: duplicates, gaps, and stepping over seqs that no longer exist. */
import assert from "node:assert/strict";
import { SeqTracker } from "./ws_client_seq.ts";

Deno.test("seq tracker: the first seq starts a conversation; repeats are duplicates", () => {
  const t = new SeqTracker();
  assert.equal(t.lastSeq("p:bob"), 0);
  assert.equal(t.note("p:bob", 7), "next");
  assert.equal(t.lastSeq("p:bob"), 7);
  assert.equal(t.note("p:bob", 7), "duplicate");
  assert.equal(t.note("p:bob", 3), "duplicate", "history before the start is not followed");
  assert.equal(t.note("p:bob", 8), "next");
});

Deno.test("seq tracker: a hole waits for its message, then the position moves over it", () => {
  const t = new SeqTracker();
  t.follow("g:g", 5);
  t.follow("g:g", 1); // already followed: unchanged
  assert.equal(t.note("g:g", 7), "gap");
  assert.equal(t.note("g:g", 7), "duplicate");
  assert.ok(t.hasGap("g:g"));
  assert.equal(t.lastSeq("g:g"), 5);
  assert.equal(t.note("g:g", 6), "next");
  assert.equal(t.lastSeq("g:g"), 7);
  assert.ok(!t.hasGap("g:g"));
});

Deno.test("seq tracker: a sync page steps over seqs that are gone (retention)", () => {
  const t = new SeqTracker();
  t.follow("p:bob", 2);
  t.note("p:bob", 9);
  // The page after seq 2 holds 5 and 6 only (3 and 4 were pruned), and more follow.
  t.note("p:bob", 5);
  t.note("p:bob", 6);
  t.pageDone("p:bob", { messages: [{ seq: 5 }, { seq: 6 }], hasMore: true, lastSeq: 9 });
  assert.equal(t.lastSeq("p:bob"), 6);
  t.pageDone("p:bob", { messages: [{ seq: 9 }], hasMore: false, lastSeq: 9 });
  assert.equal(t.lastSeq("p:bob"), 9);
  assert.ok(!t.hasGap("p:bob"));
  t.pageDone("p:bob", { messages: [], hasMore: false, lastSeq: 12 });
  assert.equal(t.lastSeq("p:bob"), 12, "an empty last page moves to the conversation's last seq");
});
