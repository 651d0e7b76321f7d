/**
 * Crash safety: a jim child process under chat load is killed with SIGKILL again and again.
 * Clients resend whatever was not acked (same ids) after each restart. In the end every message
 * that got a success ack is in history exactly once, seqs have no gaps, and no receiver was
 * delivered the same id twice. JIM_CRASH_CYCLES sets the number of kills (default 5; the
 * `crash` task runs 50).
 */
import assert from "node:assert/strict";
import { JimClient, type ReceivedPacket } from "../src/client/jim_client.ts";
import { spawnJim } from "./_process.ts";

const CYCLES = Number(Deno.env.get("JIM_CRASH_CYCLES") ?? 5);
const PAIRS = 4;
const WINDOW = 8;
type Obj = Record<string, unknown>;

interface Pair {
  from: string;
  to: string;
  next: number;
  /** ids sent and not yet acked, resent after a restart. */
  unacked: Set<string>;
  /** id → seq from the ack. */
  acked: Map<string, number>;
  /** Live cmd 11 deliveries seen by the receiver, per id. */
  delivered: Map<string, number>;
}

async function connect(port: number, userId: string): Promise<JimClient> {
  const c = await JimClient.connectTcp({ port });
  await c.send(5, { userId, password: "pw", extensions: true });
  const reply = await c.next(6, 10_000);
  assert.equal(reply.body.code, 10007);
  return c;
}

/** Sends with a window until the connection dies or `stop` is set. */
async function drive(
  pair: Pair,
  sender: JimClient,
  receiver: JimClient,
  stop: { now: boolean },
): Promise<void> {
  receiver.onPacket((p) => {
    if (p.command !== 11) return;
    const id = String((p.body.data as Obj).id);
    pair.delivered.set(id, (pair.delivered.get(id) ?? 0) + 1);
  });
  const inFlight = new Map<string, Promise<void>>();
  const send = (id: string) => {
    const done = sender.next(
      (p: ReceivedPacket) => p.command === 12 && (p.body.data as Obj)?.id === id,
      60_000,
    )
      .then((ack) => {
        assert.equal(ack.body.code, 10000, JSON.stringify(ack.body));
        pair.acked.set(id, Number((ack.body.data as Obj).seq));
        pair.unacked.delete(id);
      }).catch(() => {}).finally(() => inFlight.delete(id));
    inFlight.set(id, done);
    return sender.send(11, { chatType: 2, to: pair.to, content: `payload ${id}`, id }).catch(() => {});
  };
  // Resend everything not acked before the crash, with the same ids.
  for (const id of [...pair.unacked]) {
    if (sender.closed) return;
    await send(id);
    while (inFlight.size >= WINDOW && !sender.closed) await Promise.race(inFlight.values());
  }
  while (!stop.now && !sender.closed) {
    const id = `${pair.from}-${pair.next++}`;
    pair.unacked.add(id);
    await send(id);
    while (inFlight.size >= WINDOW && !sender.closed) await Promise.race(inFlight.values());
  }
  await Promise.race([Promise.all(inFlight.values()), sender.waitClosed(60_000).catch(() => {})]);
}

Deno.test({
  name: `crash: ${CYCLES} SIGKILLs under load lose no acked message and duplicate nothing`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "jim-crash-" });
    const pairs: Pair[] = Array.from({ length: PAIRS }, (_, i) => ({
      from: `s${i}`,
      to: `r${i}`,
      next: 0,
      unacked: new Set(),
      acked: new Map(),
      delivered: new Map(),
    }));
    const args = ["--data-dir", dataDir, "--password-iterations", "1000"];
    try {
      for (let cycle = 0; cycle <= CYCLES; cycle++) {
        const jim = await spawnJim(args);
        const clients: JimClient[] = [];
        const stop = { now: false };
        try {
          const drivers = [];
          for (const pair of pairs) {
            const receiver = await connect(jim.port, pair.to);
            const sender = await connect(jim.port, pair.from);
            clients.push(receiver, sender);
            drivers.push(drive(pair, sender, receiver, stop));
          }
          if (cycle < CYCLES) {
            await new Promise((r) => setTimeout(r, 200 + Math.random() * 400));
            await jim.stop("SIGKILL");
          } else {
            // Last round: let everything pending get its ack, then stop cleanly.
            await new Promise((r) => setTimeout(r, 300));
            stop.now = true;
            await Promise.all(drivers);
            for (const pair of pairs) {
              assert.equal(pair.unacked.size, 0, `${pair.from} still has unacked messages`);
            }
            await verify(jim.port, pairs);
            assert.equal((await jim.stop("SIGTERM")).code, 0);
          }
          await Promise.all(drivers);
        } finally {
          for (const c of clients) c.close();
          await jim.stop("SIGKILL");
        }
      }
      const total = pairs.reduce((n, p) => n + p.acked.size, 0);
      const delivered = pairs.reduce((n, p) => n + p.delivered.size, 0);
      console.log(
        `crash test: ${CYCLES} kills, ${total} messages acked, ${delivered} distinct live deliveries`,
      );
      assert.ok(total > PAIRS * 10, `too little traffic to mean anything: ${total} acked`);
      for (const pair of pairs) {
        for (const [id, n] of pair.delivered) assert.equal(n, 1, `${pair.to} was delivered ${id} ${n} times`);
      }
    } finally {
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    }
  },
});

/** History holds every acked message exactly once, at its acked seq, with seqs 1..n. */
async function verify(port: number, pairs: Pair[]): Promise<void> {
  for (const pair of pairs) {
    const c = await connect(port, pair.from);
    const seen: Obj[] = [];
    let after = 0;
    for (;;) {
      await c.send(23, { peer: pair.to, afterSeq: after, limit: 1000 });
      const page = (await c.next(24, 10_000)).body.data as Obj;
      const messages = page.messages as Obj[];
      seen.push(...messages);
      if (!page.hasMore || messages.length === 0) break;
      after = Number(messages[messages.length - 1].seq);
    }
    c.close();
    const ids = seen.map((m) => String(m.id));
    assert.equal(new Set(ids).size, ids.length, `duplicate ids in ${pair.from}'s history`);
    assert.deepEqual(seen.map((m) => m.seq), seen.map((_, i) => i + 1), "seqs are 1..n without gaps");
    const seqOf = new Map(seen.map((m) => [String(m.id), Number(m.seq)]));
    for (const [id, seq] of pair.acked) {
      assert.equal(seqOf.get(id), seq, `acked ${id} (seq ${seq}) missing or moved`);
    }
  }
}
