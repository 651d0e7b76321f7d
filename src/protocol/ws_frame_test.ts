import assert from "node:assert/strict";
import {
  encodeWsBinary,
  encodeWsClose,
  encodeWsFrame,
  encodeWsPing,
  encodeWsPong,
  encodeWsText,
  isValidWsCloseCode,
  OPCODE,
  type WsEvent,
  WsFrameDecoder,
  wsHeaderSize,
  WsProtocolError,
} from "./ws_frame.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const fromHex = (text: string) => new Uint8Array(text.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const utf8 = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
};
const pattern = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 0xff);

const MASK = fromHex("12 34 56 78");
const SERVER = { maxMessageBytes: 1 << 20, requireMask: true };
const CLIENT = { maxMessageBytes: 1 << 20, requireMask: false };

type Opts = { maxMessageBytes: number; requireMask: boolean };

/** Feeds `bytes` to a fresh decoder in pieces of `step` bytes (Infinity: one chunk). */
function decode(bytes: Uint8Array, opts: Opts, step = Infinity): WsEvent[] {
  const decoder = new WsFrameDecoder(opts);
  const events: WsEvent[] = [];
  if (step === Infinity) return decoder.push(bytes);
  for (let i = 0; i < bytes.length; i += step) events.push(...decoder.push(bytes.slice(i, i + step)));
  return events;
}

/** Decodes in one chunk, byte by byte and in 3-byte pieces; all must agree. */
function decodeEveryWay(bytes: Uint8Array, opts: Opts): WsEvent[] {
  const whole = decode(bytes, opts);
  assert.deepEqual(decode(bytes, opts, 1), whole, "byte-by-byte decoding differs");
  assert.deepEqual(decode(bytes, opts, 3), whole, "3-byte-chunk decoding differs");
  return whole;
}

/** Asserts that decoding `bytes` fails with `closeCode`, whatever the chunking. */
function assertRejects(bytes: Uint8Array, opts: Opts, closeCode: number): void {
  for (const step of [Infinity, 1, 2, 5]) {
    assert.throws(
      () => decode(bytes, opts, step),
      (e: unknown) => e instanceof WsProtocolError && e.closeCode === closeCode,
      `expected close code ${closeCode} (step ${step})`,
    );
  }
}

// ---- encoding ----

Deno.test("encodeWsFrame() reproduces the unmasked and masked examples of RFC 6455 §5.7", () => {
  assert.equal(hex(encodeWsText("Hello")), "81 05 48 65 6c 6c 6f");
  assert.equal(hex(encodeWsText("Hello", fromHex("37 fa 21 3d"))), "81 85 37 fa 21 3d 7f 9f 4d 51 58");
  assert.equal(hex(encodeWsFrame(OPCODE.TEXT, utf8("Hel"), { fin: false })), "01 03 48 65 6c");
  assert.equal(hex(encodeWsFrame(OPCODE.CONTINUATION, utf8("lo"))), "80 02 6c 6f");
  assert.equal(hex(encodeWsPing(utf8("Hello"))), "89 05 48 65 6c 6c 6f");
  assert.equal(hex(encodeWsPong(utf8("Hello"), fromHex("37 fa 21 3d"))), "8a 85 37 fa 21 3d 7f 9f 4d 51 58");
  assert.equal(hex(encodeWsBinary(new Uint8Array(256)).subarray(0, 4)), "82 7e 01 00");
  assert.equal(hex(encodeWsBinary(new Uint8Array(65536)).subarray(0, 10)), "82 7f 00 00 00 00 00 01 00 00");
});

Deno.test("encodeWsText() masks a 72-byte client text frame with key 12 34 56 78", () => {
  const payload = utf8(`{"chatType":2,"cmd":11,"content":"hi","from":"u1","msgType":0,"to":"u2"}`);
  assert.equal(payload.length, 72);
  const frame = encodeWsText(payload, MASK);
  assert.equal(frame.length, 6 + 72);
  assert.equal(hex(frame.subarray(0, 6)), "81 c8 12 34 56 78");
  for (let i = 0; i < 72; i++) assert.equal(frame[6 + i], payload[i] ^ MASK[i % 4]);
  assert.deepEqual(decodeEveryWay(frame, SERVER), [{
    type: "text",
    data: new TextDecoder().decode(payload),
  }]);
});

Deno.test("encodeWsFrame() uses the 7-bit, 16-bit and 64-bit length forms at their limits", () => {
  const cases: [number, string][] = [
    [0, "82 00"],
    [125, "82 7d"],
    [126, "82 7e 00 7e"],
    [65535, "82 7e ff ff"],
    [65536, "82 7f 00 00 00 00 00 01 00 00"],
  ];
  for (const [n, head] of cases) {
    const frame = encodeWsBinary(pattern(n));
    const headLen = wsHeaderSize(n);
    assert.equal(frame.length, headLen + n);
    assert.equal(hex(frame.subarray(0, headLen)), head);
    assert.deepEqual(frame.subarray(headLen), pattern(n));
    const masked = encodeWsBinary(pattern(n), MASK);
    assert.equal(masked.length, headLen + 4 + n);
    assert.equal(masked[1] & 0x80, 0x80);
  }
});

Deno.test("encodeWsText() encodes strings exactly like TextEncoder (surrogate pairs, lone surrogates)", () => {
  for (
    const s of [
      "",
      "ascii",
      "é",
      "发送成功",
      "😀 emoji 😀",
      "lone \ud800 high",
      "lone \udc00 low",
      "end\ud83d",
    ]
  ) {
    const bytes = utf8(s);
    assert.deepEqual(encodeWsText(s), encodeWsFrame(OPCODE.TEXT, bytes));
    assert.deepEqual(encodeWsText(s, MASK), encodeWsFrame(OPCODE.TEXT, bytes, { mask: MASK }));
  }
  const big = "中".repeat(30000); // 90000 bytes → 64-bit length form
  assert.deepEqual(encodeWsText(big), encodeWsFrame(OPCODE.TEXT, utf8(big)));
});

Deno.test("encodeWsClose() writes the code and a reason truncated to fit 125 bytes", () => {
  assert.equal(hex(encodeWsClose()), "88 00");
  assert.equal(hex(encodeWsClose(1000)), "88 02 03 e8");
  assert.equal(hex(encodeWsClose(1002, "ok")), "88 04 03 ea 6f 6b");
  const long = encodeWsClose(1009, "发".repeat(100)); // 300 bytes of reason
  assert.equal(long[1], 2 + 123); // 41 characters × 3 bytes
  const events = decode(encodeWsClose(1009, "发".repeat(100), MASK), SERVER);
  assert.deepEqual(events, [{ type: "close", code: 1009, reason: "发".repeat(41) }]);
});

Deno.test("encoders reject a masking key that is not 4 bytes and oversized control payloads", () => {
  assert.throws(() => encodeWsFrame(OPCODE.TEXT, new Uint8Array(1), { mask: new Uint8Array(3) }), RangeError);
  assert.throws(() => encodeWsText("x", new Uint8Array(5)), RangeError);
  assert.throws(() => encodeWsPing(new Uint8Array(126)), RangeError);
  assert.throws(() => encodeWsPong(new Uint8Array(126)), RangeError);
});

// ---- decoding ----

Deno.test("WsFrameDecoder round-trips every length form, masked and unmasked", () => {
  for (const n of [0, 1, 3, 4, 5, 125, 126, 127, 65535, 65536, 70001]) {
    const data = pattern(n);
    const text = "x".repeat(n);
    assert.deepEqual(decode(encodeWsBinary(data, MASK), SERVER), [{ type: "binary", data }]);
    assert.deepEqual(decode(encodeWsBinary(data), CLIENT), [{ type: "binary", data }]);
    assert.deepEqual(decode(encodeWsText(text, MASK), SERVER), [{ type: "text", data: text }]);
    assert.deepEqual(decode(encodeWsText(text), CLIENT), [{ type: "text", data: text }]);
    if (n <= 2000) {
      assert.deepEqual(decode(encodeWsBinary(data, MASK), SERVER, 1), [{ type: "binary", data }]);
      assert.deepEqual(decode(encodeWsText(text, MASK), SERVER, 7), [{ type: "text", data: text }]);
    }
  }
});

Deno.test("WsFrameDecoder decodes the RFC 6455 §5.7 examples", () => {
  assert.deepEqual(decodeEveryWay(fromHex("81 05 48 65 6c 6c 6f"), CLIENT), [{
    type: "text",
    data: "Hello",
  }]);
  assert.deepEqual(decodeEveryWay(fromHex("81 85 37 fa 21 3d 7f 9f 4d 51 58"), SERVER), [
    { type: "text", data: "Hello" },
  ]);
  assert.deepEqual(decodeEveryWay(fromHex("01 03 48 65 6c 80 02 6c 6f"), CLIENT), [
    { type: "text", data: "Hello" },
  ]);
  assert.deepEqual(decodeEveryWay(fromHex("89 05 48 65 6c 6c 6f"), CLIENT), [
    { type: "ping", data: utf8("Hello") },
  ]);
  assert.deepEqual(decodeEveryWay(fromHex("8a 85 37 fa 21 3d 7f 9f 4d 51 58"), SERVER), [
    { type: "pong", data: utf8("Hello") },
  ]);
});

Deno.test("WsFrameDecoder decodes many frames per chunk and byte-by-byte alike", () => {
  const stream = concat(
    encodeWsText("first", MASK),
    encodeWsPing(utf8("p1"), MASK),
    encodeWsBinary(pattern(300), MASK),
    encodeWsText("", MASK),
    encodeWsPong(new Uint8Array(0), MASK),
    encodeWsText("发送成功 😀", MASK),
    encodeWsBinary(pattern(70000), MASK),
    encodeWsClose(1000, "bye", MASK),
  );
  assert.deepEqual(decodeEveryWay(stream, SERVER), [
    { type: "text", data: "first" },
    { type: "ping", data: utf8("p1") },
    { type: "binary", data: pattern(300) },
    { type: "text", data: "" },
    { type: "pong", data: new Uint8Array(0) },
    { type: "text", data: "发送成功 😀" },
    { type: "binary", data: pattern(70000) },
    { type: "close", code: 1000, reason: "bye" },
  ]);
});

Deno.test("WsFrameDecoder handles random chunk boundaries over a long random stream", () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const frames: Uint8Array[] = [];
  const expected: WsEvent[] = [];
  for (let i = 0; i < 300; i++) {
    const size = [0, 1, 2, 5, 125, 126, 200, 65535, 65536][rnd(9)];
    const mask = Uint8Array.of(rnd(256), rnd(256), rnd(256), rnd(256));
    switch (rnd(4)) {
      case 0: {
        const text = "é".repeat(size >> 1) + "a".repeat(size & 1);
        frames.push(encodeWsText(text, mask));
        expected.push({ type: "text", data: text });
        break;
      }
      case 1: {
        const data = pattern(size);
        frames.push(encodeWsBinary(data, mask));
        expected.push({ type: "binary", data });
        break;
      }
      case 2: {
        const data = pattern(size % 126);
        frames.push(encodeWsPing(data, mask));
        expected.push({ type: "ping", data });
        break;
      }
      default: {
        // three fragments with a pong in between
        const data = pattern(size);
        const a = size >> 2, b = size >> 1;
        frames.push(encodeWsFrame(OPCODE.BINARY, data.subarray(0, a), { fin: false, mask }));
        frames.push(encodeWsPong(data.subarray(0, size % 126), mask));
        frames.push(encodeWsFrame(OPCODE.CONTINUATION, data.subarray(a, b), { fin: false, mask }));
        frames.push(encodeWsFrame(OPCODE.CONTINUATION, data.subarray(b), { mask }));
        expected.push({ type: "pong", data: data.slice(0, size % 126) });
        expected.push({ type: "binary", data });
      }
    }
  }
  const stream = concat(...frames);
  const decoder = new WsFrameDecoder(SERVER);
  const events: WsEvent[] = [];
  const buffer = new Uint8Array(4096); // reused like a socket read buffer
  for (let pos = 0; pos < stream.length;) {
    const n = Math.min(1 + rnd(rnd(2) ? 20 : 4096), stream.length - pos);
    buffer.set(stream.subarray(pos, pos + n));
    events.push(...decoder.push(buffer.subarray(0, n)));
    buffer.fill(0xee);
    pos += n;
  }
  assert.deepEqual(events, expected);
});

Deno.test("WsFrameDecoder copies every payload it returns (the chunk buffer may be reused)", () => {
  for (const opts of [SERVER, CLIENT]) {
    const mask = opts.requireMask ? MASK : undefined;
    const chunk = concat(
      encodeWsBinary(pattern(10), mask),
      encodeWsPing(pattern(4), mask),
      encodeWsPong(pattern(5), mask),
    );
    const events = new WsFrameDecoder(opts).push(chunk);
    chunk.fill(0);
    assert.deepEqual(events, [
      { type: "binary", data: pattern(10) },
      { type: "ping", data: pattern(4) },
      { type: "pong", data: pattern(5) },
    ]);
  }
});

Deno.test("WsFrameDecoder reassembles a fragmented message with an interleaved ping", () => {
  const stream = concat(
    encodeWsFrame(OPCODE.TEXT, utf8("Hel"), { fin: false, mask: MASK }),
    encodeWsPing(utf8("ka"), MASK),
    encodeWsFrame(OPCODE.CONTINUATION, new Uint8Array(0), { fin: false, mask: MASK }),
    encodeWsFrame(OPCODE.CONTINUATION, utf8("lo "), { fin: false, mask: MASK }),
    encodeWsClose(undefined, undefined, MASK).subarray(0, 0), // nothing
    encodeWsPong(utf8("kb"), MASK),
    encodeWsFrame(OPCODE.CONTINUATION, utf8("world"), { mask: MASK }),
    encodeWsFrame(OPCODE.BINARY, pattern(3), { fin: false, mask: MASK }),
    encodeWsFrame(OPCODE.CONTINUATION, pattern(0), { mask: MASK }),
  );
  assert.deepEqual(decodeEveryWay(stream, SERVER), [
    { type: "ping", data: utf8("ka") },
    { type: "pong", data: utf8("kb") },
    { type: "text", data: "Hello world" },
    { type: "binary", data: pattern(3) },
  ]);
});

Deno.test("WsFrameDecoder accepts a UTF-8 character split across fragments", () => {
  const bytes = utf8("a😀b");
  const stream = concat(
    encodeWsFrame(OPCODE.TEXT, bytes.subarray(0, 3), { fin: false }),
    encodeWsFrame(OPCODE.CONTINUATION, bytes.subarray(3)),
  );
  assert.deepEqual(decodeEveryWay(stream, CLIENT), [{ type: "text", data: "a😀b" }]);
});

Deno.test("WsFrameDecoder keeps a leading BOM in text messages", () => {
  assert.deepEqual(decode(encodeWsText("\ufeffx", MASK), SERVER), [{ type: "text", data: "\ufeffx" }]);
});

Deno.test("WsFrameDecoder accepts non-minimal length encodings", () => {
  const frame = concat(fromHex("82 7e 00 03"), pattern(3));
  assert.deepEqual(decodeEveryWay(frame, CLIENT), [{ type: "binary", data: pattern(3) }]);
  const frame64 = concat(fromHex("82 7f 00 00 00 00 00 00 00 02"), pattern(2));
  assert.deepEqual(decodeEveryWay(frame64, CLIENT), [{ type: "binary", data: pattern(2) }]);
});

Deno.test("WsFrameDecoder decodes close frames with and without code and reason", () => {
  assert.deepEqual(decodeEveryWay(encodeWsClose(undefined, undefined, MASK), SERVER), [
    { type: "close", reason: "" },
  ]);
  assert.deepEqual(decodeEveryWay(encodeWsClose(1001, undefined, MASK), SERVER), [
    { type: "close", code: 1001, reason: "" },
  ]);
  assert.deepEqual(decodeEveryWay(encodeWsClose(4000, "再见", MASK), SERVER), [
    { type: "close", code: 4000, reason: "再见" },
  ]);
});

Deno.test("WsFrameDecoder accepts every valid close code", () => {
  for (
    const code of [
      1000,
      1001,
      1002,
      1003,
      1007,
      1008,
      1009,
      1010,
      1011,
      1012,
      1013,
      1014,
      3000,
      3999,
      4000,
      4999,
    ]
  ) {
    assert.ok(isValidWsCloseCode(code));
    assert.deepEqual(decode(encodeWsClose(code), CLIENT), [{ type: "close", code, reason: "" }]);
  }
});

Deno.test("WsFrameDecoder stops after a close frame and ignores what follows", () => {
  const decoder = new WsFrameDecoder(SERVER);
  const events = decoder.push(
    concat(encodeWsText("a", MASK), encodeWsClose(1000, "", MASK), encodeWsText("b", MASK)),
  );
  assert.deepEqual(events, [{ type: "text", data: "a" }, { type: "close", code: 1000, reason: "" }]);
  assert.equal(decoder.finished, true);
  assert.deepEqual(decoder.push(encodeWsText("c", MASK)), []);
  assert.deepEqual(decoder.push(fromHex("ff ff")), []);
});

// ---- protocol errors ----

Deno.test("WsFrameDecoder rejects an unmasked client frame with 1002", () => {
  assertRejects(encodeWsText("hi"), SERVER, 1002);
  assertRejects(encodeWsPing(new Uint8Array(0)), SERVER, 1002);
});

Deno.test("WsFrameDecoder rejects a masked server frame with 1002", () => {
  assertRejects(encodeWsText("hi", MASK), CLIENT, 1002);
});

Deno.test("WsFrameDecoder rejects reserved bits with 1002", () => {
  for (const bit of [0x40, 0x20, 0x10]) {
    const frame = encodeWsText("hi", MASK);
    frame[0] |= bit;
    assertRejects(frame, SERVER, 1002);
  }
});

Deno.test("WsFrameDecoder rejects unknown opcodes with 1002", () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) {
    assertRejects(encodeWsFrame(op, pattern(2), { mask: MASK }), SERVER, 1002);
  }
});

Deno.test("WsFrameDecoder rejects a fragmented control frame with 1002", () => {
  assertRejects(encodeWsFrame(OPCODE.PING, pattern(2), { fin: false, mask: MASK }), SERVER, 1002);
  assertRejects(encodeWsFrame(OPCODE.CLOSE, new Uint8Array(0), { fin: false, mask: MASK }), SERVER, 1002);
});

Deno.test("WsFrameDecoder rejects a control frame over 125 bytes with 1002", () => {
  assertRejects(encodeWsFrame(OPCODE.PING, pattern(126), { mask: MASK }), SERVER, 1002);
  assertRejects(encodeWsFrame(OPCODE.PONG, pattern(126)), CLIENT, 1002);
  assertRejects(
    encodeWsFrame(OPCODE.CLOSE, concat(fromHex("03 e8"), pattern(124)), { mask: MASK }),
    SERVER,
    1002,
  );
  // 125 bytes is fine
  assert.deepEqual(decode(encodeWsPing(pattern(125), MASK), SERVER), [{ type: "ping", data: pattern(125) }]);
});

Deno.test("WsFrameDecoder rejects a continuation frame without a started message with 1002", () => {
  assertRejects(encodeWsFrame(OPCODE.CONTINUATION, utf8("x"), { mask: MASK }), SERVER, 1002);
  // also after a complete message
  assertRejects(
    concat(encodeWsText("a", MASK), encodeWsFrame(OPCODE.CONTINUATION, utf8("x"), { mask: MASK })),
    SERVER,
    1002,
  );
});

Deno.test("WsFrameDecoder rejects a new data frame while a fragmented message is in progress with 1002", () => {
  const start = encodeWsFrame(OPCODE.TEXT, utf8("a"), { fin: false, mask: MASK });
  assertRejects(concat(start, encodeWsText("b", MASK)), SERVER, 1002);
  assertRejects(concat(start, encodeWsBinary(pattern(1), MASK)), SERVER, 1002);
});

Deno.test("WsFrameDecoder rejects a 64-bit length with its high bit set with 1002", () => {
  assertRejects(fromHex("82 ff 80 00 00 00 00 00 00 00 12 34 56 78"), SERVER, 1002);
  assertRejects(fromHex("82 7f ff ff ff ff ff ff ff ff"), CLIENT, 1002);
});

Deno.test("WsFrameDecoder rejects a message over maxMessageBytes with 1009", () => {
  const opts = { maxMessageBytes: 1000, requireMask: true };
  assert.deepEqual(decode(encodeWsBinary(pattern(1000), MASK), opts), [{
    type: "binary",
    data: pattern(1000),
  }]);
  assertRejects(encodeWsBinary(pattern(1001), MASK), opts, 1009);
  assertRejects(encodeWsText("x".repeat(1001), MASK), opts, 1009);
  // total across fragments
  const fragmented = concat(
    encodeWsFrame(OPCODE.TEXT, utf8("x".repeat(600)), { fin: false, mask: MASK }),
    encodeWsPing(pattern(100), MASK), // control frames do not count
    encodeWsFrame(OPCODE.CONTINUATION, utf8("x".repeat(400)), { fin: false, mask: MASK }),
    encodeWsFrame(OPCODE.CONTINUATION, utf8("x"), { mask: MASK }),
  );
  assertRejects(fragmented, opts, 1009);
  assertRejects(fromHex("82 ff 00 00 00 00 7f ff ff ff 12 34 56 78"), opts, 1009);
});

Deno.test("WsFrameDecoder enforces maxMessageBytes from the header, before buffering the payload", () => {
  const opts = { maxMessageBytes: 1000, requireMask: true };
  // Only the header of a 1 MiB frame: rejected at once, no payload needed.
  const header = encodeWsBinary(new Uint8Array(1 << 20), MASK).subarray(0, 14);
  assertRejects(header, opts, 1009);
  // Same for a continuation header once earlier fragments count 900 bytes.
  const decoder = new WsFrameDecoder(opts);
  assert.deepEqual(decoder.push(encodeWsFrame(OPCODE.BINARY, pattern(900), { fin: false, mask: MASK })), []);
  const next = encodeWsFrame(OPCODE.CONTINUATION, pattern(101), { mask: MASK });
  assert.throws(
    () => decoder.push(next.subarray(0, 6)),
    (e: unknown) => e instanceof WsProtocolError && e.closeCode === 1009,
  );
});

Deno.test("WsFrameDecoder rejects a close frame with a 1-byte payload with 1002", () => {
  assertRejects(encodeWsFrame(OPCODE.CLOSE, fromHex("03"), { mask: MASK }), SERVER, 1002);
});

Deno.test("WsFrameDecoder rejects invalid close codes with 1002", () => {
  for (const code of [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]) {
    assert.ok(!isValidWsCloseCode(code), `${code} should be invalid`);
    assertRejects(encodeWsClose(code, "", MASK), SERVER, 1002);
  }
});

Deno.test("WsFrameDecoder rejects a close reason that is not UTF-8 with 1007", () => {
  assertRejects(encodeWsFrame(OPCODE.CLOSE, fromHex("03 e8 ff fe"), { mask: MASK }), SERVER, 1007);
});

Deno.test("WsFrameDecoder rejects a text message that is not UTF-8 with 1007", () => {
  assertRejects(encodeWsFrame(OPCODE.TEXT, fromHex("68 c3 28"), { mask: MASK }), SERVER, 1007);
  assertRejects(encodeWsFrame(OPCODE.TEXT, fromHex("ed a0 80"), { mask: MASK }), SERVER, 1007); // surrogate
  assertRejects(encodeWsFrame(OPCODE.TEXT, fromHex("f0 9f 98"), { mask: MASK }), SERVER, 1007); // truncated
  assertRejects(encodeWsFrame(OPCODE.TEXT, fromHex("ce ba e1 bd")), CLIENT, 1007);
  // invalid across fragments
  assertRejects(
    concat(
      encodeWsFrame(OPCODE.TEXT, fromHex("ce"), { fin: false, mask: MASK }),
      encodeWsFrame(OPCODE.CONTINUATION, fromHex("41"), { mask: MASK }),
    ),
    SERVER,
    1007,
  );
});

Deno.test("WsProtocolError carries the events decoded before it, and the decoder is finished", () => {
  const decoder = new WsFrameDecoder(SERVER);
  let error: unknown;
  try {
    decoder.push(concat(encodeWsText("ok", MASK), encodeWsPing(utf8("p"), MASK), encodeWsText("bad")));
  } catch (e) {
    error = e;
  }
  assert.ok(error instanceof WsProtocolError);
  assert.equal(error.closeCode, 1002);
  assert.equal(error.name, "WsProtocolError");
  assert.deepEqual(error.events, [{ type: "text", data: "ok" }, { type: "ping", data: utf8("p") }]);
  assert.equal(decoder.finished, true);
  assert.deepEqual(decoder.push(encodeWsText("later", MASK)), []);
});
