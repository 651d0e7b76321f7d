import assert from "node:assert/strict";
import {
  JsonBodyError,
  MAX_BODY_DEPTH,
  parseJsonObject,
  readInt,
  readNumber,
  readString,
  stringifySorted,
} from "./json.ts";

Deno.test("stringifySorted() sorts keys like fastjson, integer-like keys included, and drops nulls", () => {
  assert.equal(
    stringifySorted({
      b: 1,
      a: null,
      groups: { "20": [], "100": [1], u: undefined },
      c: [null, { z: 1, y: 2 }],
    }),
    `{"b":1,"c":[null,{"y":2,"z":1}],"groups":{"100":[1],"20":[]}}`,
  );
  assert.equal(stringifySorted({ msg: '发送成功 "q"' }), `{"msg":"发送成功 \\"q\\""}`);
});

Deno.test("readInt() accepts numbers and numeric strings, rejects the rest", () => {
  assert.equal(readInt({ t: "2" }, "t"), 2);
  assert.equal(readInt({ t: -127 }, "t"), -127);
  assert.equal(readInt({ t: " 7 " }, "t"), 7);
  assert.equal(readInt({}, "t"), undefined);
  assert.equal(readInt({ t: "" }, "t"), undefined);
  for (const bad of ["x", 1.5, "1e3", true, {}, [], 2 ** 53, -(2 ** 53), 1e21, "9007199254740993"]) {
    assert.throws(() => readInt({ t: bad }, "t"), JsonBodyError);
  }
});

Deno.test("readNumber() and readString() follow fastjson's leniency", () => {
  assert.equal(readNumber({ t: "1.5" }, "t"), 1.5);
  assert.equal(readString({ s: 12 }, "s"), "12");
  assert.throws(() => readString({ s: {} }, "s"), JsonBodyError);
});

Deno.test("parseJsonObject() refuses non-objects, bad JSON and bad UTF-8", () => {
  assert.deepEqual(parseJsonObject(`{"a":1}`), { a: 1 });
  for (const bad of ["[1]", "1", "null", "{", ""]) assert.throws(() => parseJsonObject(bad), JsonBodyError);
  assert.throws(() => parseJsonObject(new Uint8Array([0x7b, 0xff, 0x7d])), JsonBodyError);
});

Deno.test("parseJsonObject() refuses bodies nested deeper than MAX_BODY_DEPTH (encoders recurse)", () => {
  const nested = (depth: number) => `{"a":${"[".repeat(depth - 1)}${"]".repeat(depth - 1)}}`;
  assert.doesNotThrow(() => parseJsonObject(nested(MAX_BODY_DEPTH)));
  assert.throws(() => parseJsonObject(nested(MAX_BODY_DEPTH + 1)), JsonBodyError);
  assert.throws(() => parseJsonObject(nested(100_000)), JsonBodyError);
});
