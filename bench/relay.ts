/**
 * Baseline: a minimal Deno relay with no IM semantics. It decodes J-IM TCP frames and forwards
 * each one unchanged to the connection's partner (connections pair up in accept order: 1↔2,
 * 3↔4…). What the runtime can do on this machine right now, for ratios in every report.
 *
 *   deno run --allow-net bench/relay.ts PORT
 */
import { encodeTcpFrame, TcpFrameDecoder } from "../src/protocol/frame.ts";

const port = Number(Deno.args[0] ?? 0);
const listener = Deno.listen({ hostname: "127.0.0.1", port });
console.log(JSON.stringify({ event: "listening", port: (listener.addr as Deno.NetAddr).port }));

let waiting: Deno.TcpConn | undefined;
const partner = new Map<Deno.Conn, Deno.Conn>();

async function pump(conn: Deno.Conn): Promise<void> {
  const decoder = new TcpFrameDecoder();
  const buf = new Uint8Array(2048);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      const frames = decoder.push(buf.subarray(0, n));
      const to = partner.get(conn);
      if (!to || frames.length === 0) continue;
      // Re-frame what arrived complete and forward it in one write, as a server's outbox would.
      const out = frames.map((f) => encodeTcpFrame(f.cmd, f.body));
      const total = out.reduce((s, f) => s + f.length, 0);
      const merged = new Uint8Array(total);
      let off = 0;
      for (const f of out) {
        merged.set(f, off);
        off += f.length;
      }
      for (let w = 0; w < merged.length;) w += await to.write(merged.subarray(w));
    }
  } catch {
    // peer gone
  } finally {
    conn.close();
  }
}

for await (const conn of listener) {
  conn.setNoDelay(true);
  if (waiting) {
    partner.set(waiting, conn);
    partner.set(conn, waiting);
    waiting = undefined;
  } else {
    waiting = conn;
  }
  pump(conn);
}
