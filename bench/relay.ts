/**
 * Baseline: a minimal Deno relay with no IM semantics (no accounts, storage, acks, checks or
 * JSON parsing), measured in every run so that each jim figure also reads as a ratio to what the
 * runtime does on this machine at that moment. It uses jim's frame codecs and the same socket
 * calls, and speaks J-IM TCP frames and WebSocket on one port (first byte 0x01 = TCP).
 *
 * What it does with a frame, by cmd (fields found by a byte scan, not parsed):
 *   5  remember the connection under `"userId":"…"`; answer a fixed cmd 6 10007 (a login stub)
 *   7  add the connection to the set of `"groupId":"…"` (no reply)
 *   11 with a leading `"groupId":"…"`: write the body to every other connection of the set,
 *      framed once per protocol; with a leading `"to":"…"`: to that connection
 *   13 answer a fixed heartbeat; 19 / 23: answer a fixed cmd 20 / 24 body of REPLY bytes
 *
 *   deno run --allow-net bench/relay.ts PORT [REPLY_BYTES]
 */
import { encodeTcpFrame, TcpFrameDecoder } from "../src/protocol/frame.ts";
import { encodeWsText, WsFrameDecoder } from "../src/protocol/ws_frame.ts";
import { buildWsHandshakeResponse, computeWsAccept } from "../src/protocol/ws_handshake.ts";

const port = Number(Deno.args[0] ?? 0);
const replyBytes = Number(Deno.args[1] ?? 4096);
const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log(JSON.stringify({ event: "listening", port: (listener.addr as Deno.NetAddr).port }));

const encoder = new TextEncoder();
const decoder = new TextDecoder();

class Peer {
  readonly conn: Deno.TcpConn;
  ws = false;
  userId?: string;
  #queue: Uint8Array[] = [];
  #bytes = 0;
  #writing = false;
  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
  }

  /** Queues a body as a frame of this connection's protocol. */
  sendBody(cmd: number, body: Uint8Array): void {
    this.send(this.ws ? encodeWsText(body) : encodeTcpFrame(cmd, body));
  }

  /** Like a server outbox: frames queued during a write leave together in the next one. */
  send(frame: Uint8Array): void {
    this.#queue.push(frame);
    this.#bytes += frame.length;
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length) {
        let out = this.#queue[0];
        if (this.#queue.length > 1) {
          out = new Uint8Array(this.#bytes);
          let off = 0;
          for (const f of this.#queue) {
            out.set(f, off);
            off += f.length;
          }
        }
        this.#queue = [];
        this.#bytes = 0;
        for (let w = 0; w < out.length;) w += await this.conn.write(out.subarray(w));
      }
    } catch {
      // peer gone
    }
    this.#writing = false;
  }
}

const byUser = new Map<string, Peer>();
const groups = new Map<string, Set<Peer>>();
const LOGIN_OK = encoder.encode('{"code":10007,"command":6,"msg":"ok"}');
const HEARTBEAT = encoder.encode('{"command":13,"data":{"hbbyte":-128}}');
const PAGE = encoder.encode(
  `{"code":10018,"command":20,"data":"${"x".repeat(Math.max(0, replyBytes - 60))}"}`,
);
const SYNC = encoder.encode(
  `{"code":10033,"command":24,"data":"${"x".repeat(Math.max(0, replyBytes - 60))}"}`,
);

/** The string value of `"key":"…"` if the body starts with it (jim's generator puts it first). */
function leading(body: Uint8Array, key: string): string | undefined {
  const prefix = `{"${key}":"`;
  for (let i = 0; i < prefix.length; i++) if (body[i] !== prefix.charCodeAt(i)) return undefined;
  const end = body.indexOf(0x22, prefix.length);
  return end < 0 ? undefined : decoder.decode(body.subarray(prefix.length, end));
}

/** The string value of `"key":"…"` anywhere in the body (a scan, no JSON parse). */
function scan(body: Uint8Array, key: string): string | undefined {
  const text = decoder.decode(body);
  const at = text.indexOf(`"${key}":"`);
  if (at < 0) return undefined;
  const from = at + key.length + 4;
  return text.slice(from, text.indexOf('"', from));
}

function handle(peer: Peer, cmd: number, body: Uint8Array): void {
  switch (cmd) {
    case 11: {
      const groupId = leading(body, "groupId");
      if (groupId !== undefined) {
        let tcp: Uint8Array | undefined, ws: Uint8Array | undefined;
        for (const member of groups.get(groupId) ?? []) {
          if (member === peer) continue;
          member.send(member.ws ? (ws ??= encodeWsText(body)) : (tcp ??= encodeTcpFrame(11, body)));
        }
        return;
      }
      const to = leading(body, "to");
      if (to !== undefined) byUser.get(to)?.sendBody(11, body);
      return;
    }
    case 5: {
      const userId = scan(body, "userId");
      if (userId) {
        byUser.set(userId, peer);
        peer.userId = userId;
      }
      return peer.sendBody(6, LOGIN_OK);
    }
    case 7: {
      const groupId = scan(body, "groupId");
      if (groupId) {
        let set = groups.get(groupId);
        if (!set) groups.set(groupId, set = new Set());
        set.add(peer);
      }
      return;
    }
    case 13:
      return peer.sendBody(13, HEARTBEAT);
    case 19:
      return peer.sendBody(20, PAGE);
    case 23:
      return peer.sendBody(24, SYNC);
  }
}

function commandOf(text: string): number {
  const m = text.match(/"cmd":(\d+)/);
  return m ? Number(m[1]) : 0;
}

async function serve(conn: Deno.TcpConn): Promise<void> {
  const peer = new Peer(conn);
  const buf = new Uint8Array(2048);
  try {
    let n = await conn.read(buf);
    if (n === null) return;
    let first = buf.subarray(0, n);
    if (first[0] !== 0x01) {
      // A WebSocket upgrade: read the head, answer 101, relay frames.
      let head = decoder.decode(first);
      while (!head.includes("\r\n\r\n")) {
        n = await conn.read(buf);
        if (n === null) return;
        head += decoder.decode(buf.subarray(0, n));
      }
      const key = head.match(/sec-websocket-key:\s*(\S+)/i)?.[1] ?? "";
      peer.ws = true;
      peer.send(buildWsHandshakeResponse(await computeWsAccept(key)));
      first = encoder.encode(head.slice(head.indexOf("\r\n\r\n") + 4));
    }
    const tcp = peer.ws ? undefined : new TcpFrameDecoder();
    const ws = peer.ws ? new WsFrameDecoder({ maxMessageBytes: 1 << 20, requireMask: true }) : undefined;
    for (let chunk: Uint8Array | null = first; chunk;) {
      if (tcp) {
        for (const f of tcp.push(chunk)) handle(peer, f.cmd, f.body);
      } else {
        for (const e of ws!.push(chunk)) {
          if (e.type === "text") handle(peer, commandOf(e.data), encoder.encode(e.data));
          else if (e.type === "close") return;
        }
      }
      n = await conn.read(buf);
      chunk = n === null ? null : buf.subarray(0, n);
    }
  } catch {
    // peer gone or bad input
  } finally {
    for (const set of groups.values()) set.delete(peer);
    if (peer.userId && byUser.get(peer.userId) === peer) byUser.delete(peer.userId);
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

for await (const conn of listener) {
  conn.setNoDelay(true);
  serve(conn);
}
