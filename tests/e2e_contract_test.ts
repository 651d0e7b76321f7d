/**
 * The delivery contract over real sockets: seq in acks and deliveries (for sessions that ask
 * for extensions), de-duplication by client id, sync by seq, the conversation list with unread
 * counts, read receipts, typing, recall, search, offline push, own-message delivery, retention.
 */
import assert from "node:assert/strict";
import { JimClient, type ReceivedPacket } from "../src/client/jim_client.ts";
import { withServer } from "./_e2e.ts";
import { type TestServer, text } from "./_server.ts";

type Obj = Record<string, unknown>;
const data = (p: ReceivedPacket) => p.body.data as Obj;

/** TCP login asking for extensions. */
async function extClient(server: TestServer, userId: string): Promise<JimClient> {
  const c = await server.tcp();
  await c.send(5, { userId, password: "pw", extensions: true });
  const reply = await c.next(6);
  assert.equal(reply.body.code, 10007);
  return c;
}

async function chat(c: JimClient, body: Obj): Promise<ReceivedPacket> {
  await c.send(11, { msgType: 0, ...body });
  return await c.next(12);
}

Deno.test("contract: acks and deliveries carry seq for extension sessions; J-IM sessions see J-IM bytes", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    const plain = await server.tcp();
    assert.equal((await plain.login("p", "pw")).body.code, 10007);

    const ack1 = await chat(a, { chatType: 2, to: "b", content: "one", id: "m1" });
    assert.equal(ack1.body.code, 10000);
    assert.deepEqual(data(ack1), { createTime: data(ack1).createTime, id: "m1", seq: 1 });
    assert.equal(data(await b.next(11)).seq, 1);
    const ack2 = await chat(b, { chatType: 2, to: "a", content: "two" });
    assert.equal(data(ack2).seq, 2, "both directions share one conversation");
    assert.equal(data(await a.next(11)).seq, 2);

    // A J-IM client gets J-IM's exact ack and delivery, without seq.
    const ack3 = await chat(plain, { chatType: 2, to: "a", content: "hi", id: "x", createTime: 5 });
    assert.equal(text(ack3.raw), `{"code":10000,"command":12,"msg":"ok 发送成功"}`);
    assert.equal(data(await a.next(11)).seq, 1, "a's conversation with p starts at 1");
    await a.send(11, { chatType: 2, to: "p", content: "back", id: "y", createTime: 6 });
    assert.equal(
      text((await plain.next(11)).raw),
      `{"command":11,"data":{"chatType":2,"cmd":11,"content":"back","createTime":6,"from":"a","id":"y","to":"p"}}`,
    );
  });
});

Deno.test("contract: resending an id returns the original ack (same seq) and delivers nothing twice", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    const first = await chat(a, { chatType: 2, to: "b", content: "once", id: "dup-1" });
    const again = await chat(a, { chatType: 2, to: "b", content: "once", id: "dup-1" });
    assert.equal(again.body.code, first.body.code);
    assert.equal(data(again).seq, data(first).seq);
    assert.equal(data(again).duplicate, true);
    assert.equal(data(await b.next(11)).id, "dup-1");
    // The next distinct message is seq 2 and is the next thing b receives.
    const next = await chat(a, { chatType: 2, to: "b", content: "twice?", id: "dup-2" });
    assert.equal(data(next).seq, 2);
    assert.equal(data(await b.next(11)).id, "dup-2");
    // History has it once.
    await a.send(19, { type: 1, userId: "a", fromUserId: "b" });
    const list = (data(await a.next(20)).friends as Record<string, Obj[]>).b;
    assert.deepEqual(list.map((m) => m.id), ["dup-1", "dup-2"]);
  });
});

Deno.test("contract: sync returns exactly what a reconnecting client missed, paged by seq", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    for (let i = 1; i <= 5; i++) await chat(a, { chatType: 2, to: "b", content: `m${i}` });
    b.close();
    for (let i = 6; i <= 9; i++) await chat(a, { chatType: 2, to: "b", content: `m${i}` });
    const b2 = await extClient(server, "b");
    await b2.send(23, { peer: "a", afterSeq: 5, limit: 3 });
    const page1 = await b2.next(24);
    assert.equal(page1.body.code, 10033);
    assert.deepEqual((data(page1).messages as Obj[]).map((m) => m.seq), [6, 7, 8]);
    assert.equal(data(page1).hasMore, true);
    assert.equal(data(page1).lastSeq, 9);
    await b2.send(23, { peer: "a", afterSeq: 8 });
    const page2 = await b2.next(24);
    assert.deepEqual((data(page2).messages as Obj[]).map((m) => m.content), ["m9"]);
    assert.equal(data(page2).hasMore, false);
    await b2.send(23, { peer: "a", beforeSeq: 4, limit: 2 });
    assert.deepEqual((data(await b2.next(24)).messages as Obj[]).map((m) => m.seq), [2, 3]);
    // Groups need membership.
    await b2.send(23, { groupId: "nope" });
    assert.equal((await b2.next(24)).body.code, 10024);
  });
});

Deno.test("contract: conversation list with unread counts, read receipts and notifies", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    for (const c of [a, b]) {
      await c.send(7, { groupId: "g" });
      await c.next(9);
    }
    await a.next(9); // b's join notify
    for (let i = 0; i < 3; i++) await chat(a, { chatType: 2, to: "b", content: `p${i}` });
    await chat(a, { chatType: 1, groupId: "g", content: "hello group" });
    await b.send(25, {});
    const list = data(await b.next(26)).conversations as Obj[];
    const priv = list.find((c) => c.peer === "a")!;
    const group = list.find((c) => c.groupId === "g")!;
    assert.deepEqual([priv.lastSeq, priv.readSeq, priv.unread], [3, 0, 3]);
    assert.equal((priv.lastMessage as Obj).content, "p2");
    assert.deepEqual([group.lastSeq, group.unread], [1, 1]);
    assert.equal(list[0].groupId, "g", "most recent first");

    await b.send(27, { peer: "a", seq: 2 });
    const readReply = await b.next(28);
    assert.equal(readReply.body.code, 10035);
    assert.equal(data(readReply).readSeq, 2);
    const receipt = await a.next(29);
    assert.deepEqual(data(receipt), { chatType: 2, from: "b", readSeq: 2, to: "a" });
    await b.send(25, {});
    const after = (data(await b.next(26)).conversations as Obj[]).find((c) => c.peer === "a")!;
    assert.equal(after.unread, 1);
    // Reading never goes back.
    await b.send(27, { peer: "a", seq: 1 });
    assert.equal(data(await b.next(28)).readSeq, 2);

    await b.send(27, { groupId: "g", seq: 1 });
    await b.next(28);
    await a.send(30, { groupId: "g", seqs: [1] });
    const counts = await a.next(31);
    assert.deepEqual(data(counts).counts, { "1": 1 });
  });
});

Deno.test("contract: typing indicators reach the peer and are not stored", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    await a.send(32, { peer: "b", typing: true });
    assert.deepEqual(data(await b.next(33)), { chatType: 2, from: "a", to: "b", typing: true });
    await a.send(32, { groupId: "not-mine" });
    assert.equal((await a.next(33)).body.code, 10024);
  });
});

Deno.test("contract: recall by the sender within the window; recipients notified; history shows it", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    await chat(a, { chatType: 2, to: "b", content: "oops", id: "r1" });
    await b.next(11);
    await b.send(15, { id: "r1" });
    assert.equal((await b.next(16)).body.code, 10032, "nobody else can recall it");
    await a.send(15, { id: "r1" });
    const reply = await a.next(16);
    assert.equal(reply.body.code, 10030);
    const notice = await b.next((p) => p.command === 16 && p.body.code === undefined);
    assert.deepEqual(data(notice), { chatType: 2, from: "a", id: "r1", recalled: true, seq: 1, to: "b" });
    await b.send(19, { type: 1, userId: "b", fromUserId: "a" });
    const [m] = (data(await b.next(20)).friends as Record<string, Obj[]>).a;
    assert.equal(m.recalled, true);
    assert.equal(m.content, undefined);
    await b.send(23, { peer: "a" });
    assert.equal((data(await b.next(24)).messages as Obj[])[0].recalled, true);
  }, { recallWindow: 60 });
});

Deno.test("contract: recall after the window is refused", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    await extClient(server, "b");
    await chat(a, { chatType: 2, to: "b", content: "late", id: "r2" });
    await new Promise((r) => setTimeout(r, 1100));
    await a.send(15, { id: "r2" });
    assert.equal((await a.next(16)).body.code, 10031);
  }, { recallWindow: 1 });
});

Deno.test("contract: search finds only the caller's own conversations", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    const c = await extClient(server, "c");
    await chat(a, { chatType: 2, to: "b", content: "the secret plan" });
    await chat(c, { chatType: 2, to: "b", content: "another secret" });
    await a.send(34, { text: "secret" });
    const mine = data(await a.next(35)).messages as Obj[];
    assert.deepEqual(mine.map((m) => m.content), ["the secret plan"]);
    await b.send(34, { text: "secret" });
    assert.equal((data(await b.next(35)).messages as Obj[]).length, 2);
    await c.send(34, { text: "plan" });
    assert.equal((data(await c.next(35)).messages as Obj[]).length, 0);
    await a.send(34, { text: '"unbalanced AND (' });
    assert.equal((await a.next(35)).body.code, 10036);
  });
});

Deno.test("contract: --push-offline delivers queued messages after the login reply", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    const b = await extClient(server, "b");
    b.close();
    await b.waitClosed();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await chat(a, { chatType: 2, to: "b", content: "while away" })).body.code, 10001);
    const b2 = await server.tcp();
    await b2.send(5, { userId: "b", password: "pw" });
    await b2.next(6);
    assert.equal(data(await b2.next(11)).content, "while away");
    await b2.send(19, { type: 0, userId: "b" });
    assert.deepEqual(data(await b2.next(20)).friends, {}, "pushed messages left the queue");
  }, { pushOffline: true });
});

Deno.test("contract: --deliver-own sends a user's private messages to their other connections", async () => {
  await withServer(async (server) => {
    const a1 = await extClient(server, "a");
    const a2 = await extClient(server, "a");
    await extClient(server, "b");
    await chat(a1, { chatType: 2, to: "b", content: "from device 1" });
    assert.equal(data(await a2.next(11)).content, "from device 1");
  }, { deliverOwn: true });
});

Deno.test("contract: retention keeps the newest messages per conversation and never reuses seqs", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    await extClient(server, "b");
    for (let i = 1; i <= 5; i++) await chat(a, { chatType: 2, to: "b", content: `m${i}` });
    assert.equal(await server.app.retention.runOnce(), 3);
    await a.send(23, { peer: "b" });
    const page = data(await a.next(24));
    assert.deepEqual((page.messages as Obj[]).map((m) => m.seq), [4, 5]);
    assert.equal(data(await chat(a, { chatType: 2, to: "b", content: "m6" })).seq, 6);
  }, { retentionMaxMessages: 2 });
});

Deno.test("contract: the background job purges expired login tokens", async () => {
  await withServer(async (server) => {
    const a = await extClient(server, "a");
    await a.send(21, {});
    const { token, expiresAt } = data(await a.next(22)) as { token: string; expiresAt: number };
    await server.app.retention.runOnce(expiresAt - 1);
    const before = await server.tcp();
    await before.send(5, { token });
    assert.equal((await before.next(6)).body.code, 10007, "still valid before it expires");
    await server.app.retention.runOnce(expiresAt);
    assert.equal(await server.app.store.purgeExpiredTokens(Number.MAX_SAFE_INTEGER, 10), 0, "already purged");
    const after = await server.tcp();
    await after.send(5, { token });
    assert.equal((await after.next(6)).body.code, 10008);
  }, { tokenTtl: 60 });
});
