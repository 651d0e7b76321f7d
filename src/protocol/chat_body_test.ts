import assert from "node:assert/strict";
import { chatBodyOf, MAX_EXTRAS_DEPTH, parseChatRequest } from "./chat_body.ts";
import { JsonBodyError, stringifySorted } from "./json.ts";

Deno.test("parseChatRequest() accepts J-IM's numeric strings and keeps client id and createTime", () => {
  const req = parseChatRequest({
    chatType: "2",
    to: "u2",
    msgType: "0",
    content: "hi",
    id: "abc",
    createTime: "5",
  });
  const { chatType, to, msgType, content, id, createTime } = req;
  assert.deepEqual({ chatType, to, msgType, content, id, createTime }, {
    chatType: 2,
    to: "u2",
    msgType: 0,
    content: "hi",
    id: "abc",
    createTime: 5,
  });
});

Deno.test("parseChatRequest() rejects chat types other than 1 and 2 and missing targets", () => {
  for (
    const body of [{}, { chatType: 0 }, { chatType: 3 }, { chatType: "x" }, { chatType: 2 }, { chatType: 1 }]
  ) {
    assert.throws(() => parseChatRequest(body), JsonBodyError, JSON.stringify(body));
  }
});

Deno.test("parseChatRequest() rejects extras nested deeper than the limit", () => {
  let deep: Record<string, unknown> = {};
  for (let i = 0; i < MAX_EXTRAS_DEPTH; i++) deep = { a: deep };
  assert.throws(() => parseChatRequest({ chatType: 2, to: "u", extras: deep }), /extras nest deeper/);
  let ok: Record<string, unknown> = {};
  for (let i = 0; i < MAX_EXTRAS_DEPTH - 1; i++) ok = { a: ok };
  assert.ok(parseChatRequest({ chatType: 2, to: "u", extras: ok }).extras);
});

Deno.test("chatBodyOf() renders J-IM's ChatBody with sorted keys and no absent fields", () => {
  const body = chatBodyOf({
    id: "i",
    chatType: 2,
    from: "u1",
    to: "u2",
    content: "hi",
    createTime: 1,
    seq: 1,
  });
  assert.equal(
    stringifySorted(body),
    `{"chatType":2,"cmd":11,"content":"hi","createTime":1,"from":"u1","id":"i","to":"u2"}`,
  );
});
