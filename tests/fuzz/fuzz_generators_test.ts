/** The fuzzer's own guarantees: determinism from the seed, and input classification. */
import assert from "node:assert/strict";
import { parseSeed, Prng } from "./_prng.ts";
import { concat, wsPingFrame, wsTextFrame } from "./_generators.ts";
import {
  classifyHttp,
  classifyTcp,
  classifyWs,
  generateInput,
  type InputClass,
  kindOf,
} from "./fuzz_runner.ts";

const MAX_BODY = 2202009;
const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("Prng: the same seed and stream give the same numbers, others differ", () => {
  const a = new Prng(42, 7);
  const b = new Prng(42, 7);
  const seqA = Array.from({ length: 100 }, () => a.u32());
  assert.deepEqual(seqA, Array.from({ length: 100 }, () => b.u32()));
  const c = new Prng(42, 8);
  assert.notDeepEqual(seqA, Array.from({ length: 100 }, () => c.u32()));
  const d = new Prng(43, 7);
  assert.notDeepEqual(seqA, Array.from({ length: 100 }, () => d.u32()));
  for (let i = 0; i < 1000; i++) {
    const n = a.int(10);
    assert.ok(Number.isInteger(n) && n >= 0 && n < 10);
  }
  assert.equal(parseSeed("6973805"), 6973805);
  assert.equal(parseSeed("0x6a696d"), 0x6a696d);
  assert.equal(parseSeed("jim"), parseSeed("jim"));
});

Deno.test("generateInput() is a pure function of (seed, index, context)", () => {
  for (let i = 0; i < 400; i++) {
    const ctx = { userId: i % 3 === 0 ? undefined : "fz1", maxBody: MAX_BODY };
    const x = generateInput(99, i, ctx);
    const y = generateInput(99, i, ctx);
    assert.deepEqual(x.bytes, y.bytes, `input ${i}`);
    assert.deepEqual(x.writes, y.writes);
    assert.equal(x.label, y.label);
    assert.equal(x.kind, kindOf(i));
    assert.equal(x.writes.reduce((s, n) => s + n, 0), x.bytes.length, `writes of input ${i}`);
    assert.ok(x.writes.every((n) => n > 0) || x.bytes.length === 0);
  }
});

Deno.test("the generated inputs cover every kind and class", () => {
  const classes = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const input = generateInput(7, i, { userId: "fz2", maxBody: MAX_BODY });
    let cls: InputClass | "raw";
    if (input.kind === "tcp") cls = classifyTcp(input.bytes, MAX_BODY);
    else if (input.kind === "http") cls = classifyHttp(input.bytes, MAX_BODY).cls;
    else if (input.kind === "ws") {
      const ping = wsPingFrame(utf8("s1"), Uint8Array.of(1, 2, 3, 4));
      cls = classifyWs(new Uint8Array(0), input.bytes, ping, "s1", MAX_BODY).cls;
    } else cls = "raw";
    const key = `${input.kind} ${cls}`;
    classes.set(key, (classes.get(key) ?? 0) + 1);
  }
  for (
    const key of [
      "tcp complete",
      "tcp reject",
      "tcp incomplete",
      "ws complete",
      "ws reject",
      "ws incomplete",
      "http complete",
      "http reject",
      "http incomplete",
      "http upgrade",
      "raw raw",
    ]
  ) {
    assert.ok((classes.get(key) ?? 0) > 0, `no "${key}" inputs in ${JSON.stringify([...classes])}`);
  }
});

function tcpFrame(cmd: number, body: string, mask = 0x51, length?: number): Uint8Array {
  const b = utf8(body);
  const out = new Uint8Array(7 + b.length);
  out[0] = 1;
  out[1] = mask;
  out[2] = cmd;
  new DataView(out.buffer).setUint32(3, length ?? b.length);
  out.set(b, 7);
  return out;
}

Deno.test("classifyTcp(): complete frames, truncated or lying lengths, framing errors", () => {
  const frame = tcpFrame(13, "{}");
  assert.equal(classifyTcp(frame, MAX_BODY), "complete");
  assert.equal(classifyTcp(concat([frame, frame]), MAX_BODY), "complete");
  assert.equal(classifyTcp(frame.subarray(0, 5), MAX_BODY), "incomplete");
  assert.equal(classifyTcp(tcpFrame(13, "{}", 0x51, 3), MAX_BODY), "incomplete");
  assert.equal(classifyTcp(tcpFrame(13, "{}", 0x51, MAX_BODY + 1), MAX_BODY), "reject");
  assert.equal(classifyTcp(tcpFrame(13, "{}", 0x51, 0x80000000), MAX_BODY), "reject");
  assert.equal(classifyTcp(Uint8Array.of(2, 0x51), MAX_BODY), "reject");
});

Deno.test("classifyWs(): sentinel answered, errors, closes, open fragmented messages carried", () => {
  const mask = Uint8Array.of(9, 8, 7, 6);
  const ping = wsPingFrame(utf8("s"), mask);
  const empty = new Uint8Array(0);
  const text = wsTextFrame('{"cmd":13}', mask);
  assert.deepEqual(classifyWs(empty, text, ping, "s", MAX_BODY), { cls: "complete", carry: empty });
  assert.equal(classifyWs(empty, text.subarray(0, 4), ping, "s", MAX_BODY).cls, "incomplete");
  const unmasked = text.slice();
  unmasked[1] &= 0x7f;
  assert.equal(classifyWs(empty, unmasked, ping, "s", MAX_BODY).cls, "reject");
  const close = Uint8Array.of(0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8);
  assert.equal(classifyWs(empty, close, ping, "s", MAX_BODY).cls, "reject");
  // A text frame without FIN leaves a message open: still complete (pings flow), and carried.
  const open = text.slice();
  open[0] = 0x01;
  const r = classifyWs(empty, open, ping, "s", MAX_BODY);
  assert.equal(r.cls, "complete");
  assert.deepEqual(r.carry, concat([open, ping]));
  // With that carry, a new text frame is a protocol error; a continuation completes the message.
  assert.equal(classifyWs(r.carry, text, ping, "s", MAX_BODY).cls, "reject");
  const cont = text.slice();
  cont[0] = 0x80;
  assert.deepEqual(classifyWs(r.carry, cont, ping, "s", MAX_BODY), { cls: "complete", carry: empty });
});

Deno.test("classifyHttp(): complete (plus the sentinel), partial, rejected, upgrade", () => {
  const get = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  assert.deepEqual(classifyHttp(utf8(get), MAX_BODY), { cls: "complete", methods: ["GET", "GET"] });
  assert.deepEqual(classifyHttp(utf8("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get), MAX_BODY).methods, [
    "HEAD",
    "GET",
    "GET",
  ]);
  assert.deepEqual(classifyHttp(utf8(get + "GET / HT"), MAX_BODY), { cls: "incomplete", methods: ["GET"] });
  const post = "POST /api/message/send HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}";
  assert.equal(classifyHttp(utf8(post), MAX_BODY).cls, "incomplete");
  assert.equal(classifyHttp(utf8("GET / HTTP/1.1\nHost: x\n\n"), MAX_BODY).cls, "reject");
  assert.equal(
    classifyHttp(utf8("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), MAX_BODY).cls,
    "reject",
  );
  const upgrade = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nSec-WebSocket-Key: a\r\n\r\n";
  assert.deepEqual(classifyHttp(utf8(get + upgrade), MAX_BODY), { cls: "upgrade", methods: ["GET", "GET"] });
});
