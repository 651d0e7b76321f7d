/**
 * Fuzz input generators: valid J-IM requests (TCP frames, WebSocket frames, HTTP requests) as
 * seeds, then structure-aware and byte-level mutations. Everything is drawn from the Prng given,
 * so an input is a pure function of (seed, index, context) — see fuzz_runner.ts.
 *
 * Fuzz traffic only ever names the FUZZ_USERS / FUZZ_GROUPS below or random ids, never the ids
 * of the well-behaved clients of fuzz_test.ts, so it cannot legitimately disturb them.
 */
import { MASK_HAS_SYNSEQ, TCP_VERSION } from "../../src/protocol/frame.ts";
import type { Prng } from "./_prng.ts";

export type FuzzKind = "tcp" | "ws" | "http" | "raw";

/** Accounts the fuzzer logs in as (registered on first login; registration is open). */
export const FUZZ_USERS: readonly string[] = Array.from({ length: 16 }, (_, i) => `fz${i}`);
export const FUZZ_PASSWORD = "fz-pw";
export const FUZZ_GROUPS: readonly string[] = Array.from({ length: 8 }, (_, i) => `fg${i}`);

export interface GenContext {
  /** The user the lane's connection is logged in as; undefined before login. */
  userId?: string;
  /** The server's --max-body. */
  maxBody: number;
}

export interface FuzzInput {
  /** Global input number (with the seed, all that is needed to regenerate the bytes). */
  index: number;
  kind: FuzzKind;
  /** What the seed was and which mutations were applied, e.g. "tcp chat-group json:nest frame:len+1". */
  label: string;
  bytes: Uint8Array;
  /** Sizes of the successive writes (they add up to bytes.length). */
  writes: number[];
  /** Yield to the event loop between writes so the server is likely to read the pieces apart. */
  pauses: boolean;
}

const encoder = new TextEncoder();
const utf8 = (s: string) => encoder.encode(s);

/** Timestamps in inputs count from here (never the clock: inputs must not depend on when they run). */
const FUZZ_EPOCH = Date.UTC(2026, 0, 1);

/** obj[key] = value as an own property, even for "__proto__" (never the prototype setter). */
function put(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Values

/** Strings that have broken parsers before: numeric look-alikes, prototype keys, unicode, syntax. */
const EDGE_STRINGS = [
  "",
  " ",
  "   ",
  "0",
  "-1",
  "1",
  "2",
  " 2 ",
  "2.5",
  "1e3",
  "0x10",
  "-0",
  "00002",
  "9007199254740993",
  "99999999999999999999999",
  "NaN",
  "Infinity",
  "true",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "\u0000",
  "a\u0000b",
  "\t\n\r",
  "\u001b[31m",
  "\ud800",
  "\udfff",
  "\ud83d\ude00",
  "😀👍🏽👨‍👩‍👧",
  "你好，世界",
  "\u202eevil",
  "\ufeffbom",
  "\uffff",
  "%00",
  "%zz",
  "../../etc/passwd",
  "'; DROP TABLE messages; --",
  '"quoted" OR x*',
  "NEAR(a b)",
  "a AND b NOT c",
  "^start",
  "col:val",
  '{"cmd":5}',
  "<script>alert(1)</script>",
  "fz0",
  "fg0",
  "system",
  "x".repeat(128),
  "x".repeat(129),
  "é".repeat(200),
];

const FIELD_NAMES = [
  "cmd",
  "chatType",
  "to",
  "from",
  "groupId",
  "group_id",
  "userId",
  "password",
  "token",
  "type",
  "content",
  "extras",
  "id",
  "createTime",
  "msgType",
  "offset",
  "count",
  "beginTime",
  "endTime",
  "fromUserId",
  "seq",
  "seqs",
  "peer",
  "afterSeq",
  "beforeSeq",
  "limit",
  "text",
  "typing",
  "extensions",
  "hbbyte",
  "__proto__",
  "constructor",
];

function randomId(p: Prng): unknown {
  return p.weighted<() => unknown>([
    [6, () => p.pick(FUZZ_USERS)],
    [2, () => p.pick(FUZZ_GROUPS)],
    [2, () => randomString(p, 12)],
    [1, () => p.pick(EDGE_STRINGS)],
    [1, () => p.range(-5, 300)],
  ])();
}

function randomString(p: Prng, max: number): string {
  const n = p.size(max);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += p.weighted<() => string>([
      [20, () => String.fromCharCode(p.range(0x61, 0x7a))],
      [3, () => String.fromCharCode(p.range(0x20, 0x7e))],
      [1, () => String.fromCharCode(p.range(0, 0x1f))],
      [2, () => String.fromCharCode(p.range(0x80, 0x7ff))],
      [2, () => String.fromCharCode(p.range(0x4e00, 0x9fff))],
      [1, () => String.fromCodePoint(p.range(0x1f300, 0x1faff))],
      [1, () => String.fromCharCode(p.range(0xd800, 0xdfff))], // lone surrogate
    ])();
  }
  return s;
}

function edgeNumber(p: Prng): number {
  return p.pick([
    0,
    -0,
    1,
    -1,
    2,
    3,
    127,
    128,
    255,
    256,
    65535,
    2 ** 31 - 1,
    2 ** 31,
    -(2 ** 31),
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    2 ** 53 + 2,
    1e21,
    1e308,
    -1e308,
    5e-324,
    0.5,
    1.5,
    -2.5,
    FUZZ_EPOCH,
  ]);
}

/** A random JSON value, at most `depth` levels deep. */
export function randomValue(p: Prng, depth = 3): unknown {
  const kinds: [number, () => unknown][] = [
    [2, () => null],
    [2, () => p.chance(0.5)],
    [5, () => edgeNumber(p)],
    [3, () => p.range(-100, 100)],
    [5, () => p.pick(EDGE_STRINGS)],
    [4, () => randomString(p, 24)],
  ];
  if (depth > 0) {
    kinds.push([2, () => Array.from({ length: p.size(6) }, () => randomValue(p, depth - 1))]);
    kinds.push([2, () => {
      const o: Record<string, unknown> = {};
      for (let i = p.size(5); i > 0; i--) {
        put(o, p.chance(0.6) ? p.pick(FIELD_NAMES) : randomString(p, 8), randomValue(p, depth - 1));
      }
      return o;
    }]);
  }
  return p.weighted(kinds)();
}

/** `depth` nested arrays or objects around a value, as JSON text (not built as objects). */
function nestedJsonText(p: Prng, depth: number): string {
  const kind = p.int(3);
  if (kind === 0) return "[".repeat(depth) + "1" + "]".repeat(depth);
  if (kind === 1) return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
  return '[{"a":'.repeat(depth >> 1) + "[]" + "}]".repeat(depth >> 1);
}

// ---------------------------------------------------------------------------------------------
// Command bodies (the valid seeds)

interface Command {
  cmd: number;
  name: string;
  body: Record<string, unknown>;
}

function self(ctx: GenContext, p: Prng): unknown {
  return ctx.userId !== undefined && p.chance(0.8) ? ctx.userId : randomId(p);
}

function peer(p: Prng): unknown {
  return p.chance(0.9) ? p.pick(FUZZ_USERS) : randomId(p);
}

/**
 * Group ids to join come from a bounded set: every valid id joined creates a group and a
 * membership that lasts, and every login then broadcasts a cmd 9 per group of the user to the
 * group's sessions (J-IM), so unbounded ids would make the run slower and slower. Each user
 * mostly joins two "home" groups (fz{u} → fg{u mod 8}, fg{u+1 mod 8}), which keeps that
 * fan-out to a few sessions; the odd ids are all invalid but one.
 */
const ODD_GROUPS: readonly unknown[] = [
  "群组",
  "x".repeat(129),
  " ",
  "",
  "\u0000",
  "a\tb",
  1.5,
  null,
  [],
  {},
];

function homeGroup(p: Prng, ctx: GenContext): string {
  const u = ctx.userId === undefined ? -1 : FUZZ_USERS.indexOf(ctx.userId);
  if (u < 0) return p.pick(FUZZ_GROUPS);
  return FUZZ_GROUPS[(u + p.int(2)) % FUZZ_GROUPS.length];
}

function group(p: Prng, ctx: GenContext): unknown {
  return p.weighted<() => unknown>([
    [90, () => homeGroup(p, ctx)],
    [5, () => p.pick(FUZZ_GROUPS)],
    [5, () => p.pick(ODD_GROUPS)],
  ])();
}

/** A group id for fields that never create anything (chat, sync, read…): any id at all. */
function anyGroup(p: Prng, ctx: GenContext): unknown {
  return p.chance(0.9) ? group(p, ctx) : randomId(p);
}

function content(p: Prng): string {
  return p.weighted<() => string>([
    [8, () => `fuzz ${p.u32().toString(36)}`],
    [3, () => randomString(p, 64)],
    [1, () => p.pick(EDGE_STRINGS)],
    [1, () => "long ".repeat(p.range(10, 400))],
  ])();
}

/** A valid request of a random J-IM / jim command (valid as far as the fuzzer's users go). */
export function randomCommand(p: Prng, ctx: GenContext): Command {
  const t = FUZZ_EPOCH + p.int(86_400_000);
  return p.weighted<() => Command>([
    [12, () => ({
      cmd: 11,
      name: "chat-private",
      body: {
        chatType: 2,
        to: peer(p),
        msgType: p.pick([0, 1, 2, 3]),
        content: content(p),
        ...(p.chance(0.3) ? { id: `fzm-${p.u32().toString(16)}` } : {}),
        ...(p.chance(0.2) ? { createTime: t } : {}),
        ...(p.chance(0.15) ? { extras: randomValue(p, 2) } : {}),
      },
    })],
    [8, () => ({
      cmd: 11,
      name: "chat-group",
      body: { chatType: 1, groupId: anyGroup(p, ctx), msgType: 0, content: content(p) },
    })],
    [5, () => ({ cmd: 7, name: "join", body: { groupId: group(p, ctx) } })],
    [6, () => ({ cmd: 13, name: "heartbeat", body: { hbbyte: -128 } })],
    [3, () => ({ cmd: 1, name: "handshake", body: { hbyte: -127 } })],
    [3, () => ({ cmd: 3, name: "auth", body: { token: randomString(p, 16), userId: self(ctx, p) } })],
    [3, () => ({
      cmd: 5,
      name: "login",
      body: {
        userId: ctx.userId ?? p.pick(FUZZ_USERS),
        password: FUZZ_PASSWORD,
        ...(p.chance(0.3) ? { extensions: p.pick([true, 1, "1", "true", false]) } : {}),
      },
    })],
    [1, () => ({ cmd: 5, name: "login-bad", body: { userId: randomId(p), password: randomString(p, 12) } })],
    [1, () => ({ cmd: 5, name: "login-token", body: { token: randomString(p, 40) } })],
    [0.4, () => ({ cmd: 14, name: "close", body: p.chance(0.5) ? {} : { userId: self(ctx, p) } })],
    [
      4,
      () => ({ cmd: 17, name: "get-user", body: { type: p.pick([0, 1, 2, 3, "1"]), userId: self(ctx, p) } }),
    ],
    [5, () => ({
      cmd: 19,
      name: "get-messages",
      body: {
        type: p.pick([0, 1, 1, "1", 2]),
        userId: self(ctx, p),
        ...(p.chance(0.5) ? { fromUserId: peer(p) } : { groupId: anyGroup(p, ctx) }),
        // Without offset + count a reply holds up to 1000 messages: rare, or replies get huge.
        ...(p.chance(0.95) ? { offset: p.range(0, 5), count: p.range(0, 10) } : {}),
        ...(p.chance(0.2) ? { beginTime: t - 60_000, endTime: t } : {}),
      },
    })],
    [2, () => ({ cmd: 21, name: "token", body: {} })],
    [4, () => ({
      cmd: 23,
      name: "sync",
      body: {
        ...(p.chance(0.6) ? { peer: peer(p) } : { groupId: anyGroup(p, ctx) }),
        ...(p.chance(0.5) ? { afterSeq: p.range(0, 50) } : { beforeSeq: p.range(0, 50) }),
        limit: p.range(1, 10),
      },
    })],
    [2, () => ({ cmd: 25, name: "conversations", body: { limit: p.range(1, 10) } })],
    [
      2,
      () => ({
        cmd: 15,
        name: "recall",
        body: { id: p.chance(0.5) ? `fzm-${p.u32().toString(16)}` : randomId(p) },
      }),
    ],
    [3, () => ({
      cmd: 27,
      name: "read",
      body: { ...(p.chance(0.6) ? { peer: peer(p) } : { groupId: anyGroup(p, ctx) }), seq: p.range(0, 100) },
    })],
    [2, () => ({
      cmd: 30,
      name: "read-count",
      body: { groupId: anyGroup(p, ctx), seqs: Array.from({ length: p.size(20) }, () => p.range(0, 100)) },
    })],
    [2, () => ({
      cmd: 32,
      name: "typing",
      body: { ...(p.chance(0.6) ? { peer: peer(p) } : { groupId: anyGroup(p, ctx) }), typing: p.chance(0.5) },
    })],
    [3, () => ({
      cmd: 34,
      name: "search",
      body: {
        text: p.chance(0.5) ? "fuzz" : p.pick(EDGE_STRINGS),
        ...(p.chance(0.3) ? { peer: peer(p) } : {}),
        offset: p.range(0, 3),
        limit: p.range(1, 5),
      },
    })],
    [3, () => ({ cmd: p.int(256), name: "random-cmd", body: randomValue(p, 2) as Record<string, unknown> })],
  ])();
}

// ---------------------------------------------------------------------------------------------
// Body mutations: structure first, then encoding

/** Changes a command body in place: type confusion, missing / extra fields, nesting, big strings. */
function mutateStructure(
  p: Prng,
  body: Record<string, unknown>,
  labels: string[],
  maxBody: number,
): string[] {
  /** Raw JSON snippets spliced in after encoding (values that cannot be built as objects cheaply). */
  const raw: string[] = [];
  for (let n = p.range(1, 3); n > 0; n--) {
    const keys = Object.keys(body);
    const key = keys.length > 0 && p.chance(0.7) ? p.pick(keys) : p.pick(FIELD_NAMES);
    const op = p.weighted<string>([
      [6, "type"],
      [3, "drop"],
      [3, "add"],
      [2, "numstr"],
      [1, "nest"],
      [1, "huge"],
      [1, "proto"],
    ]);
    labels.push(`json:${op}`);
    switch (op) {
      case "type":
        put(body, key, randomValue(p, 2));
        break;
      case "drop":
        delete body[key];
        break;
      case "add":
        put(body, p.chance(0.7) ? p.pick(FIELD_NAMES) : randomString(p, 10), randomValue(p, 3));
        break;
      case "numstr": {
        const v = body[key];
        put(
          body,
          key,
          typeof v === "number"
            ? p.pick([String(v), ` ${v} `, `${v}.0`, `+${v}`, `${v}e0`])
            : p.pick([Number(v), 2, "2", "1", -1, 1.5, "2 ", "", [2], { v: 2 }]),
        );
        break;
      }
      case "nest": {
        // Around the limits (extras: 32, request bodies: 64), and far beyond (rarely: it is big).
        const depth = p.weighted<number>([
          [3, 33],
          [3, 63],
          [3, 64],
          [3, 65],
          [2, 200],
          [2, 1000],
          [1, 5000],
          [0.5, 20000],
          [0.2, 100000],
        ]);
        if (depth * 6 + 64 < maxBody) {
          const marker = `@@RAW${raw.length}@@`;
          raw.push(nestedJsonText(p, depth));
          put(body, key, marker);
        }
        break;
      }
      case "huge": {
        const len = p.weighted<number>([
          [20, 4096],
          [4, 65536],
          [0.5, 300_000],
          [0.05, maxBody - 100],
        ]);
        if (len > 0) put(body, key, (p.chance(0.5) ? "x" : "中").repeat(p.range(len >> 1, len) >> 1));
        break;
      }
      case "proto":
        // An own "__proto__" key (as JSON.parse would make it), not the prototype setter.
        put(body, "__proto__", { polluted: true, cmd: 5, userId: "fz0" });
        put(body, "constructor", { prototype: { polluted: true } });
        break;
    }
  }
  return raw;
}

/** JSON text of a body, splicing raw snippets in place of their markers. */
function jsonText(body: Record<string, unknown>, raw: readonly string[]): string {
  let text = JSON.stringify(body);
  raw.forEach((snippet, i) => text = text.replace(`"@@RAW${i}@@"`, () => snippet));
  return text;
}

const INVALID_UTF8: readonly (readonly number[])[] = [
  [0xff],
  [0xfe, 0xfe],
  [0xc0, 0x80], // overlong NUL
  [0xe0, 0x80, 0xaf], // overlong '/'
  [0xed, 0xa0, 0x80], // UTF-16 surrogate
  [0xf4, 0x90, 0x80, 0x80], // beyond U+10FFFF
  [0x80], // lone continuation
  [0xe4, 0xbd], // truncated sequence
  [0xf0, 0x9f, 0x98], // truncated emoji
];

/** Inserts an invalid UTF-8 sequence at a random position (inside a string, usually). */
function withInvalidUtf8(p: Prng, bytes: Uint8Array): Uint8Array {
  const at = bytes.length === 0 ? 0 : p.int(bytes.length);
  return concat([bytes.subarray(0, at), Uint8Array.from(p.pick(INVALID_UTF8)), bytes.subarray(at)]);
}

/** Garbage JSON: text that is almost, or not at all, a JSON object. */
function garbageJson(p: Prng, text: string, labels: string[]): Uint8Array {
  const op = p.weighted<string>([
    [3, "trunc"],
    [2, "trailing"],
    [2, "notobject"],
    [2, "invalid-utf8"],
    [1, "dupkeys"],
    [1, "bom"],
    [1, "nul"],
    [1, "empty"],
    [1, "syntax"],
  ]);
  labels.push(`body:${op}`);
  switch (op) {
    case "trunc":
      return utf8(text.slice(0, p.int(text.length)));
    case "trailing":
      return utf8(text + p.pick([",", "}", " garbage", "\u0000", "{}", "]", "\n\n"]));
    case "notobject":
      return utf8(p.pick(["[]", "[1,2]", "null", "true", "42", '"str"', "-0", "1e999", `[${text}]`]));
    case "invalid-utf8":
      return withInvalidUtf8(p, utf8(text));
    case "dupkeys":
      return utf8(text.replace(/^\{/, `{"cmd":5,"userId":"fz1","to":"fz2","chatType":"1",`));
    case "bom":
      return concat([Uint8Array.of(0xef, 0xbb, 0xbf), utf8(text)]);
    case "nul":
      return concat([utf8(text), new Uint8Array(p.range(1, 8))]);
    case "empty":
      return new Uint8Array(0);
    default:
      return utf8(p.pick([
        "{cmd:11}",
        "{'cmd':11}",
        '{"cmd":11,}',
        '{"cmd":NaN}',
        '{"cmd":0x0b}',
        '{"a":1 /* c */}',
        '{"a":"\\x41"}',
        '{"a":"\\u12"}',
        '{"a":"\\ud800"}',
        '{"a":1e400}',
        '{"a":-}',
        "{",
        "}",
      ]));
  }
}

const KNOWN_GROUPS = new Set<unknown>([...FUZZ_GROUPS, ...ODD_GROUPS]);

/** Keeps a (mutated) join's groupId in the bounded set when it could create a new group. */
function boundGroupId(p: Prng, body: Record<string, unknown>, ctx: GenContext): void {
  const g = body.groupId;
  const scalar = typeof g === "string" || typeof g === "number" || typeof g === "boolean";
  if (scalar && String(g).length <= 128 && !KNOWN_GROUPS.has(g)) put(body, "groupId", group(p, ctx));
}

/** Encodes a command body to JSON bytes, mutating structure / encoding with some probability. */
function commandBody(p: Prng, command: Command, labels: string[], ctx: GenContext): Uint8Array {
  const maxBody = ctx.maxBody;
  const body = { ...command.body };
  let raw: string[] = [];
  if (p.chance(0.4)) raw = mutateStructure(p, body, labels, maxBody);
  if (command.cmd === 7) boundGroupId(p, body, ctx);
  const text = jsonText(body, raw);
  if (p.chance(0.12)) return garbageJson(p, text, labels);
  return utf8(text);
}

// ---------------------------------------------------------------------------------------------
// Byte-level mutations (any protocol)

/** Classic byte mutations: bit flips, insert, delete, duplicate, overwrite, truncate, append. */
export function mutateBytes(p: Prng, input: Uint8Array, labels: string[]): Uint8Array {
  let b = input;
  for (let n = p.range(1, 3); n > 0; n--) {
    const op = p.weighted<string>([
      [4, "bitflip"],
      [2, "set"],
      [2, "insert"],
      [2, "delete"],
      [1, "dup"],
      [2, "truncate"],
      [1, "append"],
      [1, "interesting"],
    ]);
    labels.push(`bytes:${op}`);
    const at = b.length === 0 ? 0 : p.int(b.length);
    switch (op) {
      case "bitflip": {
        b = b.slice();
        for (let k = p.range(1, 8); k > 0 && b.length > 0; k--) b[p.int(b.length)] ^= 1 << p.int(8);
        break;
      }
      case "set":
        if (b.length > 0) {
          b = b.slice();
          b[at] = p.int(256);
        }
        break;
      case "insert":
        b = concat([b.subarray(0, at), p.bytes(p.range(1, 16)), b.subarray(at)]);
        break;
      case "delete":
        b = concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + p.range(1, 16)))]);
        break;
      case "dup":
        b = concat([b.subarray(0, at), b.subarray(at, at + p.range(1, 32)), b.subarray(at)]);
        break;
      case "truncate":
        b = b.subarray(0, at);
        break;
      case "append":
        b = concat([b, p.bytes(p.range(1, 32))]);
        break;
      case "interesting": {
        if (b.length > 0) {
          b = b.slice();
          const v = p.pick([0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x0d, 0x22, 0x5c]);
          b[at] = v;
        }
        break;
      }
    }
  }
  return b;
}

/** Write sizes: mostly one write; sometimes cut at random points, or one byte at a time. */
function splitWrites(p: Prng, length: number, labels: string[]): { writes: number[]; pauses: boolean } {
  const mode = length < 2 ? "one" : p.weighted<string>([[60, "one"], [30, "cuts"], [10, "fine"]]);
  if (mode === "one") return { writes: [length], pauses: false };
  const cuts = new Set<number>();
  if (mode === "fine" && length <= 48) {
    for (let i = 1; i < length; i++) cuts.add(i);
  } else {
    for (let k = mode === "fine" ? p.range(5, 16) : p.range(1, 3); k > 0; k--) {
      cuts.add(p.range(1, length - 1));
    }
  }
  const sorted = [...cuts].sort((a, b) => a - b);
  const writes: number[] = [];
  let prev = 0;
  for (const c of sorted) {
    writes.push(c - prev);
    prev = c;
  }
  writes.push(length - prev);
  labels.push(`split:${writes.length}`);
  return { writes, pauses: p.chance(0.5) };
}

// ---------------------------------------------------------------------------------------------
// J-IM TCP

/** A client frame with a chosen mask byte, optional synSeq and an optional lying length. */
function tcpFrame(cmd: number, body: Uint8Array, mask: number, synSeq: number | undefined, length?: number) {
  const hasSeq = (mask & MASK_HAS_SYNSEQ) !== 0;
  const out = new Uint8Array((hasSeq ? 11 : 7) + body.length);
  const v = new DataView(out.buffer);
  out[0] = TCP_VERSION;
  out[1] = mask;
  let p = 2;
  if (hasSeq) {
    v.setUint32(p, (synSeq ?? 0) >>> 0);
    p += 4;
  }
  out[p++] = cmd & 0xff;
  v.setUint32(p, (length ?? body.length) >>> 0);
  out.set(body, p + 4);
  return out;
}

/** One J-IM TCP frame: a command (maybe mutated), framed (maybe with a mutated header). */
export function tcpFrameInput(p: Prng, ctx: GenContext, labels: string[]): Uint8Array {
  const command = randomCommand(p, ctx);
  labels.push(command.name);
  let body: Uint8Array;
  if (command.cmd === 13 && p.chance(0.3)) body = Uint8Array.of(0x80); // J-IM's Java heartbeat body
  else body = commandBody(p, command, labels, ctx);
  let cmd = command.cmd;
  let mask = p.chance(0.8) ? 0x51 : p.pick([0x00, 0x10, 0xd1, 0xff & ~MASK_HAS_SYNSEQ]);
  let synSeq: number | undefined;
  if (p.chance(0.15)) {
    mask |= MASK_HAS_SYNSEQ;
    synSeq = p.pick([0, 1, 2, 0x7fffffff, p.u32() & 0x7fffffff, p.u32() & 0x7fffffff]);
    labels.push("synseq");
  }
  let length: number | undefined;
  let version = TCP_VERSION;
  if (p.chance(0.12)) {
    const op = p.weighted<string>([
      [3, "cmd"],
      [2, "mask"],
      [2, "seq"],
      [4, "len"],
      [1, "version"],
    ]);
    switch (op) {
      case "cmd":
        cmd = p.int(256);
        labels.push(`frame:cmd${cmd}`);
        break;
      case "mask":
        mask = p.int(256);
        synSeq = p.u32();
        labels.push(`frame:mask${mask.toString(16)}`);
        break;
      case "seq":
        mask |= MASK_HAS_SYNSEQ;
        synSeq = p.pick([0x80000000, 0xffffffff, p.u32()]);
        labels.push("frame:seq");
        break;
      case "len": {
        const n = body.length;
        length = p.pick([
          0x7fffffff,
          ctx.maxBody + 1,
          ctx.maxBody,
          0x80000000,
          0xffffffff,
          n + 1,
          Math.max(0, n - 1),
          0,
          n + p.range(2, 64),
          n * 2,
        ]);
        labels.push(`frame:len${length === n + 1 ? "+1" : length === n - 1 ? "-1" : `=${length}`}`);
        break;
      }
      case "version":
        version = p.pick([0x00, 0x02, 0x51, 0xff]);
        labels.push(`frame:version${version}`);
        break;
    }
  }
  const frame = tcpFrame(cmd, body, mask, synSeq, length);
  frame[0] = version;
  return frame;
}

export function genTcp(p: Prng, ctx: GenContext, index: number): FuzzInput {
  const labels: string[] = [];
  const frames: Uint8Array[] = [];
  const count = p.weighted<number>([[75, 1], [15, 2], [7, 3], [3, p.range(4, 8)]]);
  for (let i = 0; i < count; i++) frames.push(tcpFrameInput(p, ctx, labels));
  let bytes = concat(frames);
  if (p.chance(0.08)) bytes = mutateBytes(p, bytes, labels);
  return finish(p, "tcp", index, labels, bytes);
}

function finish(p: Prng, kind: FuzzKind, index: number, labels: string[], bytes: Uint8Array): FuzzInput {
  const { writes, pauses } = splitWrites(p, bytes.length, labels);
  return { index, kind, label: `${kind} ${labels.join(" ")}`, bytes, writes, pauses };
}

// ---------------------------------------------------------------------------------------------
// WebSocket (client frames, after a valid upgrade)

interface WsFrameSpec {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  mask: Uint8Array;
  payload: Uint8Array;
  /** How the length is written: minimal, or forced to the 16- / 64-bit form. */
  lengthForm: "min" | "16" | "64";
  /** Length written in the header instead of payload.length. */
  lie?: number;
  /** Sets the high bit of a 64-bit length. */
  highBit?: boolean;
}

function encodeWsSpec(f: WsFrameSpec): Uint8Array {
  const n = f.lie ?? f.payload.length;
  const form = f.lengthForm === "min" ? (n < 126 ? "7" : n <= 0xffff ? "16" : "64") : f.lengthForm;
  const head = 2 + (form === "16" ? 2 : form === "64" ? 8 : 0) + (f.masked ? 4 : 0);
  const out = new Uint8Array(head + f.payload.length);
  const v = new DataView(out.buffer);
  out[0] = (f.fin ? 0x80 : 0) | (f.rsv << 4) | (f.opcode & 0x0f);
  let p = 2;
  if (form === "7") {
    out[1] = n & 0x7f;
  } else if (form === "16") {
    out[1] = 126;
    v.setUint16(2, n & 0xffff);
    p = 4;
  } else {
    out[1] = 127;
    v.setUint32(2, Math.floor(n / 0x100000000) | (f.highBit ? 0x80000000 : 0));
    v.setUint32(6, n >>> 0);
    p = 10;
  }
  if (f.masked) {
    out[1] |= 0x80;
    out.set(f.mask, p);
    p += 4;
    for (let i = 0; i < f.payload.length; i++) out[p + i] = f.payload[i] ^ f.mask[i & 3];
  } else {
    out.set(f.payload, p);
  }
  return out;
}

function wsSpec(p: Prng, opcode: number, payload: Uint8Array, fin = true): WsFrameSpec {
  return {
    fin,
    rsv: 0,
    opcode,
    masked: true,
    mask: p.chance(0.05) ? new Uint8Array(4) : p.bytes(4),
    payload,
    lengthForm: "min",
  };
}

/** A data message split into 1–4 frames at arbitrary byte offsets (UTF-8 sequences included). */
function wsMessageFrames(p: Prng, opcode: number, payload: Uint8Array): WsFrameSpec[] {
  const pieces = payload.length < 2 ? 1 : p.weighted<number>([[75, 1], [15, 2], [10, p.range(3, 4)]]);
  if (pieces === 1) return [wsSpec(p, opcode, payload)];
  const cuts = new Set<number>();
  while (cuts.size < pieces - 1 && cuts.size < payload.length - 1) cuts.add(p.range(1, payload.length - 1));
  const sorted = [0, ...[...cuts].sort((a, b) => a - b), payload.length];
  const frames: WsFrameSpec[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    frames.push(
      wsSpec(p, i === 0 ? opcode : 0, payload.subarray(sorted[i], sorted[i + 1]), i + 2 === sorted.length),
    );
  }
  return frames;
}

function wsControlFrame(p: Prng, labels: string[]): WsFrameSpec {
  const kind = p.weighted<string>([[10, "ping"], [4, "pong"], [1, "close"]]);
  labels.push(`ws:${kind}`);
  if (kind !== "close") return wsSpec(p, kind === "ping" ? 0x9 : 0xa, p.bytes(p.size(125)));
  const payload = p.weighted<() => Uint8Array>([
    [3, () => Uint8Array.of(0x03, 0xe8)], // 1000
    [2, () => new Uint8Array(0)],
    [1, () => Uint8Array.of(0x03)], // 1 byte: protocol error
    [2, () => Uint8Array.of(p.int(256), p.int(256))], // any code
    [1, () => concat([Uint8Array.of(0x0f, 0xa0), utf8("bye ✓")])], // 4000 + reason
    [1, () => concat([Uint8Array.of(0x03, 0xe8), Uint8Array.from(p.pick(INVALID_UTF8))])],
    [1, () => concat([Uint8Array.of(0x03, 0xed), p.bytes(123)])], // 1005: not allowed on the wire
  ])();
  return wsSpec(p, 0x8, payload);
}

function mutateWsSpec(p: Prng, f: WsFrameSpec, labels: string[], maxBody: number): void {
  const op = p.weighted<string>([
    [3, "opcode"],
    [2, "rsv"],
    [2, "unmasked"],
    [2, "fin"],
    [3, "lenform"],
    [3, "lie"],
    [1, "highbit"],
    [1, "bigctrl"],
  ]);
  labels.push(`wsframe:${op}`);
  switch (op) {
    case "opcode":
      f.opcode = p.int(16);
      break;
    case "rsv":
      f.rsv = p.range(1, 7);
      break;
    case "unmasked":
      f.masked = false;
      break;
    case "fin":
      f.fin = !f.fin;
      break;
    case "lenform":
      f.lengthForm = p.pick(["16", "64"]);
      break;
    case "lie":
      f.lie = p.pick([
        f.payload.length + 1,
        Math.max(0, f.payload.length - 1),
        0,
        maxBody + 1,
        maxBody,
        0xffff,
        2 ** 40,
        f.payload.length + p.range(2, 200),
      ]);
      break;
    case "highbit":
      f.lengthForm = "64";
      f.highBit = true;
      break;
    case "bigctrl":
      f.opcode = p.pick([0x8, 0x9, 0xa]);
      f.payload = p.bytes(p.range(126, 300));
      break;
  }
}

export function genWs(p: Prng, ctx: GenContext, index: number): FuzzInput {
  const labels: string[] = [];
  const specs: WsFrameSpec[] = [];
  const messages = p.weighted<number>([[70, 1], [20, 2], [10, p.range(3, 5)]]);
  for (let i = 0; i < messages; i++) {
    if (p.chance(0.15)) specs.push(wsControlFrame(p, labels));
    const command = randomCommand(p, ctx);
    labels.push(command.name);
    let payload: Uint8Array;
    if (p.chance(0.06)) {
      payload = p.bytes(p.size(64));
      labels.push("ws:random-payload");
    } else {
      const body: Record<string, unknown> = { cmd: command.cmd, ...command.body };
      if (p.chance(0.1)) {
        body.cmd = p.pick([String(command.cmd), ` ${command.cmd}`, `${command.cmd}.0`, -1, null]);
      }
      payload = commandBody(p, { ...command, body }, labels, ctx);
    }
    const binary = p.chance(0.15);
    if (!binary && p.chance(0.05)) {
      payload = withInvalidUtf8(p, payload);
      labels.push("ws:invalid-utf8");
    }
    const frames = wsMessageFrames(p, binary ? 0x2 : 0x1, payload);
    if (frames.length > 1) labels.push(`ws:fragments${frames.length}`);
    // A control frame between fragments is legal (RFC 6455 §5.4).
    if (frames.length > 1 && p.chance(0.3)) frames.splice(1, 0, wsControlFrame(p, labels));
    specs.push(...frames);
  }
  if (p.chance(0.05)) {
    // A frame sequence error: continuation without a message, or a message left open.
    if (p.chance(0.5)) specs.unshift(wsSpec(p, 0x0, utf8('{"cmd":13}')));
    else specs.push(wsSpec(p, 0x1, utf8('{"cmd":'), false));
    labels.push("ws:sequence");
  }
  if (p.chance(0.15)) mutateWsSpec(p, p.pick(specs), labels, ctx.maxBody);
  let bytes = concat(specs.map(encodeWsSpec));
  if (p.chance(0.06)) bytes = mutateBytes(p, bytes, labels);
  return finish(p, "ws", index, labels, bytes);
}

/** A valid client ping frame carrying `payload` (the runner's sentinel). */
export function wsPingFrame(payload: Uint8Array, mask: Uint8Array): Uint8Array {
  return encodeWsSpec({ fin: true, rsv: 0, opcode: 0x9, masked: true, mask, payload, lengthForm: "min" });
}

/** A valid masked text frame (used to probe the decoder for an open fragmented message). */
export function wsTextFrame(text: string, mask: Uint8Array): Uint8Array {
  return encodeWsSpec({
    fin: true,
    rsv: 0,
    opcode: 0x1,
    masked: true,
    mask,
    payload: utf8(text),
    lengthForm: "min",
  });
}

// ---------------------------------------------------------------------------------------------
// HTTP (and WebSocket upgrade requests)

interface HttpSpec {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Uint8Array;
}

function httpBytes(s: HttpSpec, eol = "\r\n"): Uint8Array {
  let head = `${s.method} ${s.target} ${s.version}${eol}`;
  for (const [k, v] of s.headers) head += `${k}: ${v}${eol}`;
  return concat([new Uint8Array([...head + eol].map((c) => c.charCodeAt(0) & 0xff)), s.body]);
}

/** Percent-encodes UTF-8 (lone surrogates included, as U+FFFD: encodeURIComponent throws on them). */
function percentEncode(s: string): string {
  let out = "";
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

function apiTarget(p: Prng): string {
  const user = () => percentEncode(String(p.chance(0.7) ? p.pick(FUZZ_USERS) : randomId(p)));
  return p.weighted<() => string>([
    [6, () => "/api/message/send"],
    [3, () => `/api/user/online?userid=${user()}`],
    [3, () => "/api/user/online"],
    [0.5, () => `/api/user/close?userid=${user()}`],
    [3, () => "/healthz"],
    [2, () => "/"],
    [1, () => "/index.html"],
    [2, () => `/${randomString(p, 20).replace(/[^\x21-\x7e]/g, "")}`],
    [1, () => p.pick(["*", "/%zz", "/%c3%28", "/%00", "/a#frag", "http://x/healthz", "example.com:80", ""])],
    [0.5, () => "/" + "a".repeat(p.pick([1000, 8000, 21000]))],
  ])();
}

function sendBody(p: Prng, labels: string[], maxBody: number): Uint8Array {
  const command = randomCommand(p, { maxBody });
  const body: Record<string, unknown> = command.cmd === 11 ? { ...command.body } : {
    chatType: p.pick([1, 2]),
    to: p.pick(FUZZ_USERS),
    groupId: p.pick(FUZZ_GROUPS),
    content: "api",
  };
  if (p.chance(0.5)) body.from = p.chance(0.7) ? p.pick(FUZZ_USERS) : randomId(p);
  return commandBody(p, { ...command, body }, labels, { maxBody });
}

function httpRequestSpec(p: Prng, labels: string[], maxBody: number): HttpSpec {
  const target = apiTarget(p);
  const isSend = target === "/api/message/send";
  const method = isSend ? (p.chance(0.9) ? "POST" : "GET") : p.weighted<string>([
    [10, "GET"],
    [3, "POST"],
    [2, "HEAD"],
    [1, "PUT"],
    [1, "DELETE"],
    [1, "OPTIONS"],
  ]);
  let body: Uint8Array = new Uint8Array(0);
  if (method === "POST") {
    body = isSend ? sendBody(p, labels, maxBody) : utf8(`userid=${p.pick(FUZZ_USERS)}`);
  }
  const headers: [string, string][] = [["Host", "127.0.0.1"]];
  if (body.length > 0 || p.chance(0.1)) headers.push(["Content-Length", String(body.length)]);
  if (method === "POST") {
    headers.push([
      "Content-Type",
      isSend ? "application/json" : "application/x-www-form-urlencoded",
    ]);
  }
  if (p.chance(0.1)) headers.push(["Accept-Encoding", "gzip, deflate"]);
  labels.push(`${method} ${target.slice(0, 24)}`);
  return { method, target, version: "HTTP/1.1", headers, body };
}

function mutateHttpSpec(p: Prng, s: HttpSpec, labels: string[], maxBody: number): "crlf" | "lf" {
  const op = p.weighted<string>([
    [3, "method"],
    [2, "version"],
    [4, "cl-lie"],
    [2, "cl-form"],
    [2, "te"],
    [2, "connection"],
    [2, "host"],
    [2, "bad-header"],
    [1, "huge-head"],
    [1, "many-headers"],
    [1, "lf"],
    [2, "auth"],
  ]);
  labels.push(`http:${op}`);
  const setHeader = (k: string, v: string) => {
    s.headers = s.headers.filter(([n]) => n.toLowerCase() !== k.toLowerCase());
    s.headers.push([k, v]);
  };
  switch (op) {
    case "method":
      s.method = p.pick(["get", "G ET", "", "GET\u0000", "Ж", "BREW", "X".repeat(300), "CONNECT", "TRACE"]);
      break;
    case "version":
      s.version = p.pick([
        "HTTP/1.0",
        "HTTP/2.0",
        "HTTP/0.9",
        "HTTP/1.10",
        "http/1.1",
        "HTTP/1",
        "",
        "HTTP/1.1 x",
      ]);
      break;
    case "cl-lie": {
      const n = s.body.length;
      setHeader(
        "Content-Length",
        String(p.pick([n + 1, Math.max(0, n - 1), 0, n + 100, maxBody, maxBody + 1, 2 ** 53, 1e21])),
      );
      break;
    }
    case "cl-form":
      setHeader(
        "Content-Length",
        p.pick([
          `+${s.body.length}`,
          `-1`,
          ` ${s.body.length} `,
          `0x10`,
          `${s.body.length}, ${s.body.length}`,
          `${s.body.length}, ${s.body.length + 1}`,
          "",
          "abc",
          "1".repeat(40),
        ]),
      );
      if (p.chance(0.3)) s.headers.push(["Content-Length", String(s.body.length)]);
      break;
    case "te":
      setHeader(
        "Transfer-Encoding",
        p.pick(["chunked", "identity", "gzip, chunked", "", "chunked, identity"]),
      );
      break;
    case "connection":
      setHeader("Connection", p.pick(["close", "keep-alive", "Upgrade", "close, keep-alive", "x"]));
      break;
    case "host":
      if (p.chance(0.5)) s.headers = s.headers.filter(([n]) => n !== "Host");
      else s.headers.push(["Host", "second.example"]);
      break;
    case "bad-header":
      s.headers.push(
        p.pick<[string, string]>([
          ["X Bad", "v"],
          ["X-Bad ", "v"],
          ["", "v"],
          [" folded", "v"],
          ["X-Nul", "a\u0000b"],
          ["X-High", "\u00ff\u00fe"],
          ["X-Cr", "a\rb"],
          ["Bad\u0001", "v"],
          ["X-Colon", ":::"],
        ]),
      );
      break;
    case "huge-head":
      s.headers.push(["X-Big", "b".repeat(p.pick([4000, 20000, 21000, 60000]))]);
      break;
    case "many-headers":
      for (let i = p.range(50, 600); i > 0; i--) s.headers.push([`X-H${i}`, String(i)]);
      break;
    case "lf":
      return "lf";
    case "auth":
      setHeader(
        "Authorization",
        p.pick(["Bearer ", "Bearer x", "Basic Zm9vOmJhcg==", "bearer " + "t".repeat(500)]),
      );
      break;
  }
  return "crlf";
}

export function genHttp(p: Prng, ctx: GenContext, index: number): FuzzInput {
  const maxBody = ctx.maxBody;
  const labels: string[] = [];
  if (p.chance(0.1)) return genUpgrade(p, index, maxBody, labels);
  const parts: Uint8Array[] = [];
  const count = p.weighted<number>([[80, 1], [15, 2], [5, p.range(3, 5)]]);
  if (count > 1) labels.push(`pipeline:${count}`);
  for (let i = 0; i < count; i++) {
    const spec = httpRequestSpec(p, labels, maxBody);
    let eol = "crlf";
    if (p.chance(0.25)) eol = mutateHttpSpec(p, spec, labels, maxBody);
    parts.push(httpBytes(spec, eol === "lf" ? "\n" : "\r\n"));
  }
  let bytes = concat(parts);
  if (p.chance(0.08)) bytes = mutateBytes(p, bytes, labels);
  return finish(p, "http", index, labels, bytes);
}

/** A WebSocket upgrade request (maybe mutated), maybe followed by frames in the same write. */
function genUpgrade(p: Prng, index: number, maxBody: number, labels: string[]): FuzzInput {
  labels.push("upgrade");
  const query = p.weighted<() => string>([
    [4, () => ""],
    [4, () => `?username=${p.pick(FUZZ_USERS)}&password=${FUZZ_PASSWORD}`],
    [1, () => `?username=${p.pick(FUZZ_USERS)}&password=wrong`],
    [1, () => `?username=${p.pick(FUZZ_USERS)}`],
    [1, () => `?token=${randomString(p, 20).replace(/[^a-z]/g, "")}`],
    [1, () => `?username=${p.pick(FUZZ_USERS)}&password=${FUZZ_PASSWORD}&extensions=1`],
    [1, () => `?username=%ff%fe&password=%zz`],
  ])();
  const key = btoa(String.fromCharCode(...p.bytes(16)));
  const spec: HttpSpec = {
    method: "GET",
    target: `/${query}`,
    version: "HTTP/1.1",
    headers: [
      ["Host", "127.0.0.1"],
      ["Upgrade", "websocket"],
      ["Connection", "Upgrade"],
      ["Sec-WebSocket-Key", key],
      ["Sec-WebSocket-Version", "13"],
    ],
    body: new Uint8Array(0),
  };
  if (p.chance(0.6)) {
    const op = p.weighted<string>([
      [3, "key"],
      [2, "version"],
      [1, "no-upgrade"],
      [1, "origin"],
      [1, "method"],
      [1, "http10"],
      [2, "generic"],
    ]);
    labels.push(`upgrade:${op}`);
    const set = (k: string, v: string | undefined) => {
      spec.headers = spec.headers.filter(([n]) => n !== k);
      if (v !== undefined) spec.headers.push([k, v]);
    };
    switch (op) {
      case "key":
        set(
          "Sec-WebSocket-Key",
          p.pick([undefined, "", "short", "!!!notbase64!!!", btoa("x".repeat(17)), key + "="]),
        );
        break;
      case "version":
        set("Sec-WebSocket-Version", p.pick(["8", "14", "13, 8", "", "thirteen"]));
        break;
      case "no-upgrade":
        set("Upgrade", p.pick([undefined, "h2c", "websocket, h2c"]));
        break;
      case "origin":
        set("Origin", p.pick(["http://evil.example", "null", ""]));
        break;
      case "method":
        spec.method = p.pick(["POST", "HEAD", "PUT"]);
        break;
      case "http10":
        spec.version = "HTTP/1.0";
        break;
      default:
        mutateHttpSpec(p, spec, labels, maxBody);
    }
  }
  let bytes = httpBytes(spec);
  if (p.chance(0.3)) {
    // Frames right behind the head, in the same segment (the server must keep them).
    const ctx: GenContext = { maxBody };
    bytes = concat([bytes, genWs(p, ctx, index).bytes]);
    labels.push("upgrade:+frames");
  }
  if (p.chance(0.05)) bytes = mutateBytes(p, bytes, labels);
  return finish(p, "http", index, labels, bytes);
}

// ---------------------------------------------------------------------------------------------
// Raw first bytes (protocol sniffing on a fresh connection)

export function genRaw(p: Prng, ctx: GenContext, index: number): FuzzInput {
  const labels: string[] = [];
  const op = p.weighted<string>([
    [3, "random"],
    [2, "ascii"],
    [2, "tcp-anon"],
    [1, "silent"],
    [1, "tls"],
    [1, "lowercase-http"],
    [1, "one-byte"],
  ]);
  labels.push(op);
  let bytes: Uint8Array;
  switch (op) {
    case "random":
      bytes = p.bytes(p.range(1, 64));
      break;
    case "ascii":
      bytes = utf8(
        p.pick(["G", "GE", "GET", "GET /", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HELLO\r\n\r\n", "Z"]),
      );
      break;
    case "tcp-anon":
      bytes = tcpFrameInput(p, { maxBody: ctx.maxBody }, labels);
      break;
    case "silent":
      bytes = new Uint8Array(0);
      break;
    case "tls":
      bytes = Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03);
      break;
    case "lowercase-http":
      bytes = utf8("get / HTTP/1.1\r\nHost: x\r\n\r\n");
      break;
    default:
      bytes = Uint8Array.of(p.int(256));
  }
  if (bytes.length > 0 && p.chance(0.2)) bytes = mutateBytes(p, bytes, labels);
  return finish(p, "raw", index, labels, bytes);
}
