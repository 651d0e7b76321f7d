import assert from "node:assert/strict";
import { hashToken, newMessageId } from "./password.ts";

Deno.test("newMessageId: 32 hex characters, UUID version 7 and RFC 9562 variant", () => {
  const id = newMessageId();
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(id[12], "7");
  assert("89ab".includes(id[16]), `variant nibble ${id[16]}`);
});

Deno.test("newMessageId: starts with the current time in ms, so later ids sort after earlier ones", async () => {
  const before = Date.now();
  const first = newMessageId();
  const after = Date.now();
  const ms = parseInt(first.slice(0, 12), 16);
  assert(ms >= before && ms <= after, `${ms} not in [${before}, ${after}]`);
  await new Promise((r) => setTimeout(r, 2));
  const second = newMessageId();
  assert(second > first, `${second} should sort after ${first}`);
});

Deno.test("newMessageId: ids made in the same millisecond still differ", () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => newMessageId()));
  assert.equal(ids.size, 10_000);
  assert.notEqual(newMessageId(), newMessageId());
});

Deno.test("hashToken: the SHA-256 hex of the token (what the tokens table stores)", () => {
  // SHA-256("abc"), FIPS 180-2 appendix B.1.
  assert.equal(hashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert.equal(hashToken("token-1").length, 64);
  assert.notEqual(hashToken("token-1"), hashToken("token-2"));
});
