import assert from "node:assert/strict";
import { encodeTcpFrame, FrameError, TcpFrameDecoder } from "./frame.ts";
import { encodeJson } from "./json.ts";

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
const fromHex = (text: string) => new Uint8Array(text.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const utf8 = (s: string) => new TextEncoder().encode(s);

// Spec §6.6, byte for byte.
const SPEC_BODY = `{"chatType":2,"cmd":11,"content":"hi","from":"u1","msgType":0,"to":"u2"}`;
const SPEC_FRAME_HEX = `01 51 0b 00 00 00 48
7b 22 63 68 61 74 54 79 70 65 22 3a 32 2c 22 63 6d 64 22 3a 31 31 2c 22 63 6f 6e 74 65 6e 74
22 3a 22 68 69 22 2c 22 66 72 6f 6d 22 3a 22 75 31 22 2c 22 6d 73 67 54 79 70 65 22 3a 30 2c
22 74 6f 22 3a 22 75 32 22 7d`;

Deno.test("encodeTcpFrame() reproduces the worked example of spec §6.6", () => {
  const body = encodeJson({ chatType: 2, cmd: 11, content: "hi", from: "u1", msgType: 0, to: "u2" });
  assert.equal(new TextDecoder().decode(body), SPEC_BODY);
  assert.equal(body.length, 72);
  assert.equal(hex(encodeTcpFrame(11, body)), hex(fromHex(SPEC_FRAME_HEX)));
});

Deno.test("encodeTcpFrame() headers match the reference headers of spec §6.6", () => {
  const ack = encodeJson({ code: 10000, command: 12, msg: "ok 发送成功" });
  assert.equal(ack.length, 51);
  assert.equal(hex(encodeTcpFrame(12, ack).subarray(0, 7)), "01 51 0c 00 00 00 33");
  const login = utf8(`{"cmd":5,"password":"123","userId":"hello_client"}`);
  assert.equal(hex(encodeTcpFrame(5, login).subarray(0, 7)), "01 51 05 00 00 00 32");
  assert.equal(hex(encodeTcpFrame(13, new Uint8Array([0x80]))), "01 51 0d 00 00 00 01 80");
  const hb = encodeJson({ command: 13, data: { hbbyte: -128 } });
  assert.equal(hex(encodeTcpFrame(13, hb).subarray(0, 7)), "01 51 0d 00 00 00 25");
  const hs = encodeJson({ command: 2, data: { hbyte: -127 } });
  assert.equal(hex(encodeTcpFrame(2, hs).subarray(0, 7)), "01 51 02 00 00 00 23");
  const unknown = encodeJson({ code: 10017, command: 0, msg: "cmd failed! 未知的cmd命令!" });
  assert.equal(hex(encodeTcpFrame(0, unknown).subarray(0, 7)), "01 51 00 00 00 00 42");
  const withSeq = encodeTcpFrame(11, utf8(SPEC_BODY), 0x4b0);
  assert.equal(hex(withSeq.subarray(0, 11)), "01 f1 00 00 04 b0 0b 00 00 00 48");
});

Deno.test("TcpFrameDecoder decodes a frame fed byte by byte", () => {
  const frame = fromHex(SPEC_FRAME_HEX);
  const decoder = new TcpFrameDecoder();
  const frames = [];
  for (let i = 0; i < frame.length; i++) frames.push(...decoder.push(frame.subarray(i, i + 1)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].cmd, 11);
  assert.equal(frames[0].synSeq, 0);
  assert.equal(new TextDecoder().decode(frames[0].body), SPEC_BODY);
  assert.equal(decoder.bufferedBytes, 0);
});

Deno.test("TcpFrameDecoder decodes several frames in one chunk and split at every boundary", () => {
  const a = encodeTcpFrame(11, utf8(SPEC_BODY));
  const b = encodeTcpFrame(13, new Uint8Array([0x80]));
  const c = encodeTcpFrame(5, utf8(`{"userId":"x"}`), 77);
  const d = encodeTcpFrame(1, new Uint8Array(0));
  const all = new Uint8Array([...a, ...b, ...c, ...d]);
  for (let split = 0; split <= all.length; split++) {
    const decoder = new TcpFrameDecoder();
    const frames = [...decoder.push(all.subarray(0, split)), ...decoder.push(all.subarray(split))];
    assert.deepEqual(frames.map((f) => [f.cmd, f.synSeq, f.body.length]), [
      [11, 0, 72],
      [13, 0, 1],
      [5, 77, 14],
      [1, 0, 0],
    ]);
  }
});

Deno.test("TcpFrameDecoder accepts any input mask and honours only the synSeq bit", () => {
  for (const mask of [0x00, 0x10, 0x51, 0xc1, 0x8f]) {
    const frame = new Uint8Array([0x01, mask, 13, 0, 0, 0, 1, 0x80]);
    const [f] = new TcpFrameDecoder().push(frame);
    assert.equal(f.cmd, 13);
    assert.equal(f.synSeq, 0);
  }
  const [f] = new TcpFrameDecoder().push(new Uint8Array([0x01, 0x20, 0, 0, 0, 0, 13, 0, 0, 0, 0]));
  assert.equal(f.synSeq, 0);
  assert.equal(f.cmd, 13);
});

Deno.test("TcpFrameDecoder copies bodies so the caller can reuse its buffer", () => {
  const chunk = encodeTcpFrame(11, utf8(SPEC_BODY));
  const [f] = new TcpFrameDecoder().push(chunk);
  chunk.fill(0);
  assert.equal(new TextDecoder().decode(f.body), SPEC_BODY);
});

Deno.test("TcpFrameDecoder rejects a bad version byte at once", () => {
  assert.throws(() => new TcpFrameDecoder().push(new Uint8Array([0x02])), FrameError);
  assert.throws(() => new TcpFrameDecoder().push(utf8("GET / HTTP/1.1\r\n")), FrameError);
  const decoder = new TcpFrameDecoder();
  decoder.push(encodeTcpFrame(13, new Uint8Array([0x80])).subarray(0, 8));
  assert.throws(() => decoder.push(new Uint8Array([0xff])), FrameError);
});

Deno.test("TcpFrameDecoder rejects oversize and negative lengths from the header alone", () => {
  const decoder = new TcpFrameDecoder(100);
  assert.throws(() => decoder.push(new Uint8Array([0x01, 0x51, 11, 0, 0, 0, 101])), /exceeds the limit/);
  assert.throws(
    () => new TcpFrameDecoder().push(new Uint8Array([0x01, 0x51, 11, 0x80, 0, 0, 0])),
    /negative/,
  );
  const [ok] = new TcpFrameDecoder(100).push(encodeTcpFrame(11, new Uint8Array(100)));
  assert.equal(ok.body.length, 100);
});

Deno.test("TcpFrameDecoder passes unknown command bytes up for the router to answer", () => {
  const [f] = new TcpFrameDecoder().push(encodeTcpFrame(200, utf8("{}")));
  assert.equal(f.cmd, 200);
});

Deno.test("TcpFrameDecoder reassembles a large body from small chunks", () => {
  const body = new Uint8Array(1_000_000).map((_, i) => i & 0xff);
  const frame = encodeTcpFrame(11, body);
  const decoder = new TcpFrameDecoder();
  const frames = [];
  for (let i = 0; i < frame.length; i += 1000) frames.push(...decoder.push(frame.subarray(i, i + 1000)));
  assert.equal(frames.length, 1);
  assert.deepEqual(frames[0].body, body);
  assert.equal(decoder.bufferedBytes, 0);
});
