import assert from "node:assert/strict";
import { MAX_READ_BUFFER_BYTES, nextReadBuffer, READ_BUFFER_BYTES } from "./conn_context.ts";

Deno.test("nextReadBuffer: a read that filled the buffer doubles it, up to the maximum; otherwise it stays", () => {
  let buf: Uint8Array = new Uint8Array(READ_BUFFER_BYTES);
  assert.equal(nextReadBuffer(buf, READ_BUFFER_BYTES - 1), buf, "a partial read keeps the buffer");
  const sizes = [];
  while (buf.length < MAX_READ_BUFFER_BYTES) {
    buf = nextReadBuffer(buf, buf.length);
    sizes.push(buf.length);
  }
  assert.deepEqual(sizes.at(-1), MAX_READ_BUFFER_BYTES);
  assert.ok(sizes.every((n, i) => n === READ_BUFFER_BYTES * 2 ** (i + 1)));
  assert.equal(nextReadBuffer(buf, buf.length), buf, "never beyond the maximum");
});
