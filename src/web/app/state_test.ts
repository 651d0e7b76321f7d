/** The web app's model, without a DOM or a server. */
import assert from "node:assert/strict";
import type { ChatMessage } from "../../client/ws_client.ts";
import { AppState, RECALLED_TEXT, TYPING_TTL_MS } from "./state.ts";

function state(): AppState {
  const s = new AppState();
  s.me = "alice";
  return s;
}

function msg(fields: Partial<ChatMessage> & { seq?: number }): ChatMessage {
  return { id: `m${fields.seq ?? "x"}`, chatType: 2, from: "bob", to: "alice", createTime: 1000, ...fields };
}

Deno.test("state: an own message goes sending → sent (seq) → read", () => {
  const s = state();
  s.addLocal({ id: "x1", chatType: 2, from: "alice", to: "bob", content: "hi", createTime: 5 });
  const conv = s.conversations.get("p:bob")!;
  assert.deepEqual(conv.messages.map((m) => [m.id, m.status, m.seq]), [["x1", "sending", undefined]]);
  assert.equal(conv.lastText, "hi");

  s.acked("p:bob", "x1", 4, 6);
  assert.deepEqual(conv.messages.map((m) => [m.status, m.seq, m.createTime]), [["sent", 4, 6]]);
  assert.equal(conv.lastSeq, 4);
  assert.equal(s.unread(conv), 0, "sending marks the conversation read");

  s.setPeerRead("p:bob", 3);
  assert.equal(conv.messages[0].status, "sent");
  s.setPeerRead("p:bob", 4);
  assert.equal(conv.messages[0].status, "read");
});

Deno.test("state: a refused message fails and can be retried with its id", () => {
  const s = state();
  s.addLocal({ id: "x1", chatType: 2, from: "alice", to: "bob", content: "hi", createTime: 5 });
  s.failed("p:bob", "x1", "no such user");
  const item = s.conversations.get("p:bob")!.messages[0];
  assert.deepEqual([item.status, item.error], ["failed", "no such user"]);
  assert.equal(s.retrying("p:bob", "x1")?.status, "sending");
  assert.equal(s.retrying("p:bob", "x1"), undefined, "only a failed message is retried");
});

Deno.test("state: incoming messages count as unread until read; sorted by seq, unacked last", () => {
  const s = state();
  s.addLocal({ id: "mine", chatType: 2, from: "alice", to: "bob", content: "pending", createTime: 9 });
  s.addMessages([msg({ seq: 2, content: "two" }), msg({ seq: 1, content: "one" })]);
  const conv = s.conversations.get("p:bob")!;
  assert.deepEqual(conv.messages.map((m) => m.content), ["one", "two", "pending"]);
  assert.equal(s.unread(conv), 2);
  assert.equal(conv.lastText, "pending", "the unacked message is the newest");
  s.addMessages([msg({ seq: 2, content: "two" })]);
  assert.equal(conv.messages.length, 3, "the same message twice is kept once");
  s.setReadSeq("p:bob", 2);
  assert.equal(s.unread(conv), 0);
});

Deno.test("state: ids are per sender; the own group echo merges with the pending message", () => {
  const s = state();
  s.addMessages([msg({ id: "same", seq: 1, from: "bob" })]);
  s.addLocal({ id: "same", chatType: 2, from: "alice", to: "bob", content: "mine", createTime: 2 });
  assert.equal(s.conversations.get("p:bob")!.messages.length, 2);

  s.addLocal({ id: "g1", chatType: 1, from: "alice", groupId: "g", content: "hello", createTime: 3 });
  s.addMessages([{
    id: "g1",
    chatType: 1,
    from: "alice",
    groupId: "g",
    content: "hello",
    createTime: 3,
    seq: 7,
  }]);
  const group = s.conversations.get("g:g")!;
  assert.deepEqual(group.messages.map((m) => [m.seq, m.status]), [[7, "sent"]]);
  s.setReadCounts("g:g", { "7": 2 });
  assert.equal(group.messages[0].readBy, 2);
});

Deno.test("state: recall clears the content and the preview", () => {
  const s = state();
  s.addMessages([msg({ id: "a", seq: 1, content: "secret" })]);
  s.recalled("p:bob", "bob", "a");
  const conv = s.conversations.get("p:bob")!;
  assert.deepEqual([conv.messages[0].recalled, conv.messages[0].content, conv.lastText], [
    true,
    "",
    RECALLED_TEXT,
  ]);
  s.addMessages([msg({ id: "b", seq: 2, recalled: true })]);
  assert.equal(conv.messages[1].recalled, true);
});

Deno.test("state: the conversation list gives positions, unread counts and previews", () => {
  const s = state();
  s.applyList([
    {
      chatType: 2,
      peer: "bob",
      lastSeq: 5,
      readSeq: 2,
      unread: 3,
      lastMessage: msg({ seq: 5, content: "five" }),
    },
    { chatType: 1, groupId: "g", lastSeq: 0, readSeq: 0, unread: 0 },
  ]);
  const bob = s.conversations.get("p:bob")!;
  assert.deepEqual([s.unread(bob), bob.lastText, bob.lastFrom], [3, "five", "bob"]);
  assert.equal(s.unread(s.conversations.get("g:g")!), 0);
  assert.deepEqual(s.sortedConversations().map((c) => c.key), ["p:bob", "g:g"]);
});

Deno.test("state: typing indicators expire; online users follow joins and exits", () => {
  const s = state();
  s.setTyping("p:bob", "bob", true, 0);
  s.setTyping("p:bob", "alice", true, 0);
  const conv = s.conversations.get("p:bob")!;
  assert.deepEqual([...conv.typing.keys()], ["bob"]);
  assert.equal(s.expireTyping(TYPING_TTL_MS - 1), false);
  assert.equal(s.expireTyping(TYPING_TTL_MS), true);
  assert.equal(conv.typing.size, 0);

  s.setOnlineFrom({
    userId: "alice",
    groups: [{
      groupId: "g",
      users: [{ userId: "alice", status: "online" }, { userId: "bob", status: "online" }],
    }],
  });
  assert.deepEqual(s.onlineUsers(), ["alice", "bob"]);
  assert.ok(s.conversations.has("g:g"));
  s.joined("h", { userId: "carol", status: "online" });
  s.left("g", { userId: "bob", status: "offline" });
  assert.deepEqual(s.onlineUsers(), ["alice", "carol"]);
  assert.equal(s.isOnline("bob"), false);
  assert.equal(s.isOnline("dave"), undefined);
});
