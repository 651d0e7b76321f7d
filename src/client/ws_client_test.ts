/** ws_client.ts against a real in-process server: login, chat, requests, reconnect and catch-up. */
import assert from "node:assert/strict";
import { startServer, type TestServer } from "../../tests/_server.ts";
import {
  type ChatMessage,
  type ClientEvents,
  type ClientOptions,
  connect,
  JimError,
  type JimWsClient,
  KICKED_CLOSE_CODE,
  loginUrl,
} from "./ws_client.ts";
import { KICKED_CLOSE_CODE as SERVER_KICKED_CLOSE_CODE } from "../services/session.ts";

const FAST: ClientOptions = { reconnect: { minDelayMs: 50, maxDelayMs: 200 } };

async function withServer(fn: (server: TestServer, open: Opener) => Promise<void>): Promise<void> {
  const server = await startServer();
  const clients: JimWsClient[] = [];
  const open: Opener = async (userId, options = FAST) => {
    const client = connect(loginUrl(`ws://127.0.0.1:${server.port}/`, { userId, password: "pw" }), options);
    clients.push(client);
    await client.loggedIn;
    return client;
  };
  try {
    await fn(server, open);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}

type Opener = (userId: string, options?: ClientOptions) => Promise<JimWsClient>;

/** Collects a client's events of one type. */
function collect<K extends keyof ClientEvents>(client: JimWsClient, type: K): Parameters<ClientEvents[K]>[] {
  const seen: Parameters<ClientEvents[K]>[] = [];
  const fn = (...args: Parameters<ClientEvents[K]>) => void seen.push(args);
  client.on(type, fn as unknown as ClientEvents[K]);
  return seen;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function contents(messages: [ChatMessage, { live: boolean }][]): string[] {
  return messages.map(([m]) => m.content ?? "");
}

function kick(server: TestServer, userId: string): void {
  for (const session of server.app.services.registry.sessionsOf(userId)) session.close("test kick");
}

Deno.test("ws client: login resolves on 10007; a wrong password rejects with 10008", async () => {
  await withServer(async (server, open) => {
    const alice = await open("alice");
    assert.equal(alice.status, "online");
    assert.equal(alice.userId, "alice");
    await alice.close();
    assert.equal(alice.status, "offline");

    const wrong = connect(loginUrl(`ws://127.0.0.1:${server.port}/`, { userId: "alice", password: "nope" }));
    const err = await wrong.loggedIn.then(() => undefined, (e) => e);
    assert.ok(err instanceof JimError);
    assert.equal(err.code, 10008);
    await wrong.close();
    assert.equal(wrong.status, "offline");
  });
});

Deno.test("ws client: cmd 5 login (password kept out of the URL) and a token login", async () => {
  await withServer(async (server, open) => {
    await (await open("carol")).close();
    const base = `ws://127.0.0.1:${server.port}/`;
    const viaCmd5 = connect(base, { login: { userId: "carol", password: "pw" } });
    await viaCmd5.loggedIn;
    const token = await viaCmd5.token();
    assert.equal(token.userId, "carol");
    await viaCmd5.close();

    const viaToken = connect(loginUrl(base, { token: token.token }));
    await viaToken.loggedIn;
    assert.equal(viaToken.userId, "carol"); // learned with cmd 21
    await viaToken.close();
  });
});

Deno.test("ws client: private chat both ways, acks with seq, deliveries with seq", async () => {
  await withServer(async (_server, open) => {
    const alice = await open("alice");
    const bob = await open("bob");
    const atBob = collect(bob, "message");
    const atAlice = collect(alice, "message");

    const first = alice.sendChat({ peer: "bob" }, "hi bob");
    assert.equal(first.id.length, 32);
    const ack = await first.ack;
    assert.equal(ack.id, first.id);
    assert.equal(ack.seq, 1);
    assert.equal(ack.online, true);
    assert.equal(ack.duplicate, false);
    await waitFor("bob's delivery", () => atBob.length === 1);
    const [got, info] = atBob[0];
    assert.deepEqual([got.from, got.to, got.content, got.seq, got.id, info.live], [
      "alice",
      "bob",
      "hi bob",
      1,
      first.id,
      true,
    ]);

    const reply = bob.sendChat({ peer: "alice" }, "hi alice");
    assert.equal((await reply.ack).seq, 2);
    await waitFor("alice's delivery", () => atAlice.length === 1);
    assert.equal(atAlice[0][0].seq, 2);
    assert.equal(alice.lastSeqOf("p:bob"), 2);
    assert.equal(bob.lastSeqOf("p:alice"), 2);

    // Pipelined sends are acked in order with consecutive seqs.
    const burst = ["a", "b", "c", "d"].map((t) => alice.sendChat({ peer: "bob" }, t));
    const seqs = await Promise.all(burst.map(async (p) => (await p.ack).seq));
    assert.deepEqual(seqs, [3, 4, 5, 6]);
    await waitFor("the burst", () => atBob.length === 5);
    assert.deepEqual(contents(atBob), ["hi bob", "a", "b", "c", "d"]);

    // A refused chat rejects with the server's code and does not block the next one.
    const refused = alice.sendChat({ peer: "nobody-here" }, "?");
    const after = alice.sendChat({ peer: "bob" }, "still fine");
    const err = await refused.ack.then(() => undefined, (e) => e);
    assert.equal(err?.code, 10025);
    assert.equal((await after.ack).seq, 7);
  });
});

Deno.test("ws client: groups, sync, conversations, read receipts, typing, search, recall, get user", async () => {
  await withServer(async (_server, open) => {
    const alice = await open("alice");
    const bob = await open("bob");
    const joined = await alice.joinGroup("g1");
    assert.deepEqual([joined.group, joined.user.userId], ["g1", "alice"]);
    const joinsAtAlice = collect(alice, "join");
    await bob.joinGroup("g1");
    await waitFor("bob's join notify", () => joinsAtAlice.some(([n]) => n.user.userId === "bob"));
    const refused = await alice.joinGroup("").then(() => undefined, (e) => e);
    assert.equal(refused?.code, 10012);

    const atBob = collect(bob, "message");
    const g = await alice.sendChat({ groupId: "g1" }, "hello group").ack;
    assert.equal(g.seq, 1);
    await waitFor("group delivery", () => atBob.length === 1);
    assert.equal(atBob[0][0].groupId, "g1");

    const me = await alice.getUser("alice", 0);
    const members = me?.groups?.find((x) => x.groupId === "g1")?.users.map((u) => u.userId).sort();
    assert.deepEqual(members, ["alice", "bob"]);

    for (const t of ["one apple", "two pears", "three apples"]) await alice.sendChat({ peer: "bob" }, t).ack;
    const page = await bob.sync({ peer: "alice" }, { afterSeq: 1 });
    assert.deepEqual(page.messages.map((m) => m.seq), [2, 3]);
    assert.equal(page.lastSeq, 3);
    const older = await bob.sync({ peer: "alice" }, { beforeSeq: 3, limit: 1 });
    assert.deepEqual([older.messages.map((m) => m.seq), older.hasMore], [[2], true]);
    const latest = await bob.latest({ peer: "alice" }, 2);
    assert.deepEqual(latest.messages.map((m) => m.content), ["two pears", "three apples"]);

    const list = await bob.conversations();
    const priv = list.find((c) => c.peer === "alice");
    assert.deepEqual([priv?.lastSeq, priv?.unread, priv?.lastMessage?.content], [3, 3, "three apples"]);

    const reads = collect(alice, "read");
    assert.equal(await bob.markRead({ peer: "alice" }, 3), 3);
    await waitFor("read notify", () => reads.length === 1);
    assert.deepEqual([reads[0][0].from, reads[0][0].readSeq], ["bob", 3]);
    await bob.markRead({ groupId: "g1" }, 1);
    assert.deepEqual(await alice.readCounts({ groupId: "g1" }, [1]), { "1": 1 });

    const typing = collect(bob, "typing");
    alice.typing({ peer: "bob" }, true);
    await waitFor("typing notify", () => typing.length === 1);
    assert.deepEqual([typing[0][0].from, typing[0][0].typing], ["alice", true]);

    const found = await bob.search("apples");
    assert.deepEqual(found.map((m) => m.content), ["three apples"]);

    const recalls = collect(bob, "recall");
    const sent = alice.sendChat({ peer: "bob" }, "oops");
    await sent.ack;
    const recalled = await alice.recall(sent.id);
    assert.deepEqual([recalled.id, recalled.recalled], [sent.id, true]);
    await waitFor("recall notify", () => recalls.length === 1);
    assert.equal(recalls[0][0].id, sent.id);
    const notMine = await bob.recall(sent.id).then(() => undefined, (e) => e);
    assert.equal(notMine?.code, 10032);
  });
});

Deno.test("ws client: after a kick it reconnects, catches up what it missed and resends unacked chats", async () => {
  await withServer(async (server, open) => {
    const alice = await open("alice", { reconnect: { minDelayMs: 400, maxDelayMs: 400 } });
    const bob = await open("bob");
    await bob.joinGroup("g");
    await alice.joinGroup("g");
    const atAlice = collect(alice, "message");
    const statuses = collect(alice, "status");
    const logins = collect(alice, "login");
    const synced = collect(alice, "synced");
    await bob.sendChat({ peer: "alice" }, "before").ack;
    await bob.sendChat({ groupId: "g" }, "group before").ack;
    await waitFor("live messages", () => atAlice.length === 2);

    kick(server, "alice");
    await waitFor("reconnecting", () => alice.status === "reconnecting");
    // While alice is away: messages to her, and one of hers waiting for the connection.
    for (const t of ["missed 1", "missed 2", "missed 3"]) await bob.sendChat({ peer: "alice" }, t).ack;
    await bob.sendChat({ groupId: "g" }, "group missed").ack;
    const queued = alice.sendChat({ peer: "bob" }, "sent while away");
    assert.deepEqual(alice.unacked, [queued.id]);

    const ack = await queued.ack;
    assert.equal(ack.seq, 5);
    await waitFor("catch-up", () => synced.length === 1);
    assert.deepEqual(logins.map(([i]) => i.reconnect), [true]);
    assert.deepEqual(statuses.map(([s]) => s), ["reconnecting", "online"]);
    const caughtUp = atAlice.slice(2);
    assert.deepEqual(contents(caughtUp).sort(), ["group missed", "missed 1", "missed 2", "missed 3"]);
    assert.ok(caughtUp.every(([, info]) => !info.live));
    assert.equal(alice.lastSeqOf("p:bob"), 5);
    assert.equal(alice.lastSeqOf("g:g"), 2);

    // Live again: no duplicates, next seqs.
    await bob.sendChat({ peer: "alice" }, "live again").ack;
    await waitFor("live after reconnect", () => atAlice.length === 7);
    assert.deepEqual([atAlice[6][0].seq, atAlice[6][1].live], [6, true]);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(atAlice.length, 7);
  });
});

Deno.test("ws client: a lost ack is resent with the same id after reconnecting; delivered once", async () => {
  await withServer(async (_server, open) => {
    let dropped = false;
    // Swallows the first chat ack and closes the socket, as a network failure would.
    const createWebSocket = (url: string) => {
      const ws = new WebSocket(url);
      const realSet = Object.getOwnPropertyDescriptor(WebSocket.prototype, "onmessage")!.set!;
      Object.defineProperty(ws, "onmessage", {
        set(fn: (e: MessageEvent) => void) {
          realSet.call(ws, (e: MessageEvent) => {
            if (!dropped && JSON.parse(String(e.data)).command === 12) {
              dropped = true;
              ws.close();
              return;
            }
            fn(e);
          });
        },
      });
      return ws;
    };
    const bob = await open("bob");
    const alice = await open("alice", { ...FAST, createWebSocket });
    const atBob = collect(bob, "message");
    const sent = alice.sendChat({ peer: "bob" }, "exactly once");
    const ack = await sent.ack;
    assert.ok(dropped);
    assert.deepEqual([ack.id, ack.seq, ack.duplicate], [sent.id, 1, true]);
    await waitFor("delivery", () => atBob.length >= 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(atBob.length, 1);
    const history = await bob.sync({ peer: "alice" });
    assert.deepEqual(history.messages.map((m) => m.id), [sent.id]);
  });
});

Deno.test("ws client: a refused login after a reconnect stops the client", async () => {
  await withServer(async (server, open) => {
    const alice = await open("alice", FAST);
    const failures = collect(alice, "loginFailed");
    alice.setUrl(loginUrl(`ws://127.0.0.1:${server.port}/`, { userId: "alice", password: "wrong" }));
    const pending = alice.sendChat({ peer: "alice" }, "never sent");
    kick(server, "alice");
    const err = await pending.ack.then(() => undefined, (e) => e);
    assert.ok(err instanceof JimError);
    await waitFor("loginFailed", () => failures.length === 1);
    assert.equal(failures[0][0].code, 10008);
    await waitFor("offline", () => alice.status === "offline");
  });
});

Deno.test("ws client: an operator's kick (close code 4001) stops it: offline, a kicked event, no reconnect", async () => {
  assert.equal(KICKED_CLOSE_CODE, SERVER_KICKED_CLOSE_CODE);
  await withServer(async (server, open) => {
    const alice = await open("alice", FAST);
    const kicked = collect(alice, "kicked");
    const statuses = collect(alice, "status");
    // Kick an idle client: the server closes the socket right after its close frame, and a
    // request still unread on the server's side would turn that into a reset that loses the code.
    const synced = collect(alice, "synced");
    await waitFor("login catch-up", () => synced.length === 1);
    for (const session of server.app.services.registry.sessionsOf("alice")) session.kick("admin kick");
    await waitFor("kicked event", () => kicked.length === 1);
    assert.equal(alice.status, "offline");
    const after = alice.sendChat({ peer: "alice" }, "after the kick");
    assert.ok((await after.ack.then(() => undefined, (e) => e)) instanceof JimError);
    // FAST reconnects within 200 ms: give it several times that, then check nobody came back.
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(server.app.services.registry.isOnline("alice"), false);
    assert.deepEqual(statuses.map(([s]) => s), ["offline"]);
    alice.reconnectNow();
    assert.equal(alice.status, "offline");
  });
});
