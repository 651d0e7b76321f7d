/**
 * `--workers 2`: the real program as a child process, two IO workers sharing one port. Clients
 * connect until both workers hold some (the admin overview tells which worker has each user),
 * then everything that crosses workers is checked over real sockets: private and group chat,
 * offline queuing, cmd 17's online list, kicks and cmd 14, seqs under concurrent senders on both
 * workers, and a clean SIGTERM.
 */
import assert from "node:assert/strict";
import { JimClient, type ReceivedPacket } from "../src/client/jim_client.ts";
import { type JimProcess, spawnJim } from "./_process.ts";

const data = (p: ReceivedPacket) => p.body.data as Record<string, unknown>;

interface Overview {
  node: string;
  users: { userId: string; nodes: Record<string, number> }[];
}

async function overview(port: number): Promise<Overview> {
  const res = await fetch(`http://127.0.0.1:${port}/api/admin/overview`);
  assert.equal(res.status, 200);
  return await res.json();
}

/** Polls the overview (presence crosses workers asynchronously) until `check` holds. */
async function until<T>(port: number, check: (o: Overview) => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = check(await overview(port));
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The worker holding each listed user, once every one of them shows up on some worker. */
function nodesOf(port: number, userIds: string[]): Promise<Map<string, string>> {
  return until(port, (o) => {
    const map = new Map<string, string>();
    for (const u of o.users) {
      const nodes = Object.keys(u.nodes);
      if (nodes.length === 1) map.set(u.userId, nodes[0]);
    }
    return userIds.every((id) => map.has(id)) ? map : undefined;
  }, `presence of ${userIds.join(",")}`);
}

async function login(port: number, userId: string, extensions = false): Promise<JimClient> {
  const c = await JimClient.connectTcp({ port });
  await c.send(5, { userId, password: "pw", extensions });
  assert.equal((await c.next(6)).body.code, 10007, `login of ${userId}`);
  return c;
}

/** A raw HTTP/1.1 keep-alive connection: the requests on it are served by one worker. */
class HttpConn {
  #conn: Deno.Conn;
  #buf = "";
  private constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  static async open(port: number): Promise<HttpConn> {
    return new HttpConn(await Deno.connect({ hostname: "127.0.0.1", port }));
  }
  async request(method: string, path: string, body = ""): Promise<unknown> {
    const bytes = new TextEncoder().encode(body);
    await this.#conn.write(new TextEncoder().encode(
      `${method} ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${bytes.length}\r\n\r\n${body}`,
    ));
    const chunk = new Uint8Array(65536);
    for (;;) {
      const end = this.#buf.indexOf("\r\n\r\n");
      if (end >= 0) {
        const length = Number(this.#buf.slice(0, end).match(/content-length: (\d+)/i)?.[1] ?? 0);
        if (this.#buf.length >= end + 4 + length) {
          const text = this.#buf.slice(end + 4, end + 4 + length);
          this.#buf = this.#buf.slice(end + 4 + length);
          return JSON.parse(text);
        }
      }
      const n = await this.#conn.read(chunk);
      if (n === null) throw new Error("HTTP connection closed");
      this.#buf += new TextDecoder().decode(chunk.subarray(0, n));
    }
  }
  close() {
    this.#conn.close();
  }
}

Deno.test("--workers 2: users on different workers chat, see each other, get kicked; SIGTERM stops cleanly", async (t) => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-workers-" });
  let jim: JimProcess | undefined;
  const clients: JimClient[] = [];
  try {
    jim = await spawnJim([
      "--workers",
      "2",
      "--data-dir",
      dataDir,
      "--password-iterations",
      "1000",
      "--connect-rate-per-ip",
      "0",
    ]);
    const port = jim.port;
    assert.match(jim.stderr(), /"event":"worker.started".*"node":"w0"/);
    assert.match(jim.stderr(), /"event":"worker.started".*"node":"w1"/);

    // Connect until both workers hold users (the kernel spreads connections over the sockets).
    const byNode = new Map<string, { id: string; client: JimClient }[]>();
    for (let i = 0; i < 64 && !(byNode.get("w0")?.length! >= 3 && byNode.get("w1")?.length! >= 3); i++) {
      const id = `u${i}`;
      const client = await login(port, id, true);
      clients.push(client);
      const node = (await nodesOf(port, [id])).get(id)!;
      if (!byNode.has(node)) byNode.set(node, []);
      byNode.get(node)!.push({ id, client });
    }
    const [a, a2, a3] = byNode.get("w0") ?? [];
    const [b, b2, b3] = byNode.get("w1") ?? [];
    assert.ok(a3 && b3, `both workers got connections: ${[...byNode].map(([n, l]) => `${n}=${l.length}`)}`);
    // The overview (whichever worker answers) counts each worker's logged-in sessions.
    const counts = await until(port, (o) => {
      const nodes = (o as Overview & { nodes: Record<string, number> }).nodes;
      return nodes.w0 === byNode.get("w0")!.length && nodes.w1 === byNode.get("w1")!.length
        ? nodes
        : undefined;
    }, "sessions per worker");
    assert.equal(counts.w0 + counts.w1, clients.length);

    await t.step("private chat crosses workers both ways", async () => {
      await a.client.send(11, { chatType: 2, to: b.id, content: "hi from w0", createTime: 1 });
      assert.equal((await a.client.next(12)).body.code, 10000, "online on the other worker");
      assert.equal(data(await b.client.next(11)).content, "hi from w0");
      await b.client.send(11, { chatType: 2, to: a.id, content: "hi from w1", createTime: 2 });
      assert.equal((await b.client.next(12)).body.code, 10000);
      assert.equal(data(await a.client.next(11)).content, "hi from w1");
    });

    await t.step("group chat fans out to members on both workers; joins notify across", async () => {
      const members = [a, a2, b, b2];
      await a.client.send(7, { groupId: "g1" });
      assert.equal((await a.client.next(9)).body.code, 10011);
      for (const m of members.slice(1)) {
        await m.client.send(7, { groupId: "g1" });
        assert.equal((await m.client.next(9)).body.code, 10011);
        // The group's earlier members hear of the join, wherever they are.
        const joined = await a.client.next((p) =>
          p.command === 9 && (p.body.user as { userId: string }).userId === m.id
        );
        assert.equal(joined.body.group, "g1");
      }
      await b2.client.send(11, { chatType: 1, groupId: "g1", content: "to all", createTime: 3 });
      assert.equal((await b2.client.next(12)).body.code, 10000);
      for (const m of members) {
        const got = await m.client.next((p) => p.command === 11 && data(p).content === "to all");
        assert.equal(data(got).from, b2.id);
        assert.equal(data(got).seq, 1);
      }
    });

    await t.step("moderation on one worker holds on the other (mute, kick: no stale cache)", async () => {
      // a created g1 on w0 (owner); b on w1 sends once, so w1 has g1's members and b's mute cached.
      await b.client.send(11, { chatType: 1, groupId: "g1", content: "before", createTime: 5 });
      assert.equal((await b.client.next(12)).body.code, 10000);
      await a.client.send(42, { groupId: "g1", userId: b.id, seconds: 600 });
      await a.client.next(43);
      // The notify reaches b after w1 applied the mute (one bus, in order).
      assert.equal((data(await b.client.next(43)) as { userId: string }).userId, b.id);
      await b.client.send(11, { chatType: 1, groupId: "g1", content: "muted?", createTime: 6 });
      assert.equal((await b.client.next(12)).body.code, 10040, "muted on the other worker");
      await a.client.send(38, { groupId: "g1", userId: b.id });
      await a.client.next(39);
      await b.client.next(39);
      const exit = await b2.client.next(10);
      assert.equal((data(exit).user as { userId: string }).userId, b.id);
      await b.client.send(11, { chatType: 1, groupId: "g1", content: "kicked?", createTime: 7 });
      assert.equal((await b.client.next(12)).body.code, 10024, "no longer a member on the other worker");
    });

    await t.step("cmd 17 lists online members from both workers", async () => {
      await a.client.send(17, { userId: a.id, type: 0 });
      const reply = await a.client.next(18);
      const groups = data(reply).groups as { groupId: string; users: { userId: string; status: string }[] }[];
      const g1 = groups.find((g) => g.groupId === "g1")!;
      assert.deepEqual(g1.users.map((u) => u.userId).sort(), [a.id, a2.id, b2.id].sort());
      assert.ok(g1.users.every((u) => u.status === "online"));
      // Another user's public profile: online on the other worker.
      await a.client.send(17, { userId: b.id, type: 2 });
      assert.equal((data(await a.client.next(18)) as { status: string }).status, "online");
    });

    await t.step(
      "a user on no worker gets the message queued; pulls it after logging in anywhere",
      async () => {
        b3.client.close();
        await b3.client.waitClosed();
        await until(port, (o) => !o.users.some((u) => u.userId === b3.id), `${b3.id} offline everywhere`);
        await a.client.send(11, { chatType: 2, to: b3.id, content: "while away", createTime: 4 });
        assert.equal((await a.client.next(12)).body.code, 10001, "offline");
        const back = await login(port, b3.id);
        clients.push(back);
        await back.send(19, { type: 0, userId: b3.id });
        const reply = await back.next(20);
        const friends = data(reply).friends as Record<string, { content: string }[]>;
        assert.deepEqual(friends[a.id].map((m) => m.content), ["while away"]);
      },
    );

    await t.step("seqs stay gap-free when both workers send into one conversation at once", async () => {
      const n = 100;
      const sends = [];
      for (let i = 0; i < n; i++) {
        sends.push(
          a3.client.send(11, { chatType: 2, to: b.id, content: `a${i}`, id: `a3-${i}`, createTime: i }),
        );
        sends.push(
          b.client.send(11, { chatType: 2, to: a3.id, content: `b${i}`, id: `b-${i}`, createTime: i }),
        );
      }
      await Promise.all(sends);
      const acks = new Map<JimClient, number[]>();
      for (const c of [a3.client, b.client]) {
        acks.set(c, []);
        for (let i = 0; i < n; i++) {
          const ack = await c.next(12);
          assert.equal(ack.body.code, 10000);
          acks.get(c)!.push((ack.body.data as { seq: number }).seq);
        }
      }
      const seqs = [...acks.get(a3.client)!, ...acks.get(b.client)!].sort((x, y) => x - y);
      assert.deepEqual(seqs, Array.from({ length: 2 * n }, (_, i) => i + 1));
      // A resend of an id (lost ack) through another session of the sender: the original seq,
      // nothing stored twice (checked after the restart below: lastSeq stays 2n).
      const again = await login(port, a3.id, true);
      clients.push(again);
      await again.send(11, { chatType: 2, to: b.id, content: "a0", id: "a3-0", createTime: 0 });
      const dup = await again.next(12);
      assert.equal(dup.body.code, 10000);
      assert.equal((dup.body.data as { seq: number }).seq, acks.get(a3.client)![0]);
      again.close();
    });

    await t.step("admin kick through one worker closes a user's session on the other", async () => {
      const http = await HttpConn.open(port);
      try {
        const { node } = await http.request("GET", "/api/admin/overview") as Overview;
        const victim = node === "w0" ? b2 : a2;
        const reply = await http.request("POST", "/api/admin/kick", JSON.stringify({ userId: victim.id }));
        assert.deepEqual(reply, { closed: 1 });
        await victim.client.waitClosed();
      } finally {
        http.close();
      }
    });

    await t.step("cmd 14 with the own userId closes that user's sessions on every worker", async () => {
      const sessions: JimClient[] = [];
      for (let i = 0; i < 12; i++) {
        const c = await login(port, "multi");
        sessions.push(c);
        clients.push(c);
      }
      const nodes = await until(port, (o) => {
        const u = o.users.find((u) => u.userId === "multi");
        return u && Object.values(u.nodes).reduce((x, y) => x + y, 0) === 12 ? u.nodes : undefined;
      }, "multi's 12 sessions");
      assert.equal(Object.keys(nodes).length, 2, `sessions on both workers: ${JSON.stringify(nodes)}`);
      await sessions[0].send(14, { userId: "multi" });
      for (const c of sessions) {
        await c.next(14);
        await c.waitClosed();
      }
    });

    await t.step("SIGTERM stops both workers and the store; the data is all there afterwards", async () => {
      const status = await jim!.stop("SIGTERM");
      assert.equal(status.code, 0, jim!.stderr());
      assert.match(jim!.stderr(), /"event":"server.stopped"/);
      jim = undefined;
      // The lock is released and every acked message is on disk: one worker reads them back.
      const again = await spawnJim(["--data-dir", dataDir, "--password-iterations", "1000"]);
      try {
        const reader = await login(again.port, a3.id, true);
        await reader.send(23, { peer: b.id, afterSeq: 0, limit: 500 });
        const page = data(await reader.next(24));
        assert.equal(page.lastSeq, 200);
        reader.close();
      } finally {
        await again.stop();
      }
    });
  } finally {
    for (const c of clients) c.close();
    if (jim) await jim.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
});
