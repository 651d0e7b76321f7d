import assert from "node:assert/strict";
import {
  buildWsHandshakeResponse,
  buildWsUpgradeRequest,
  computeWsAccept,
  generateWsKey,
  validateWsUpgrade,
} from "./ws_handshake.ts";

Deno.test("computeWsAccept() matches the RFC 6455 §1.3 test vector", async () => {
  assert.equal(await computeWsAccept("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("buildWsHandshakeResponse() produces J-IM's exact 101 response", () => {
  const bytes = buildWsHandshakeResponse("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const expected = "HTTP/1.1 101 Switching Protocols\r\n" +
    "content-length: 0\r\n" +
    "upgrade: WebSocket\r\n" +
    "connection: upgrade\r\n" +
    "sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
    "\r\n";
  assert.deepEqual(bytes, new TextEncoder().encode(expected));
  assert.equal(bytes.length, 148);
});

Deno.test("validateWsUpgrade() accepts a valid request, with or without a version", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  assert.equal(
    validateWsUpgrade(new Map([["sec-websocket-key", key], ["sec-websocket-version", "13"]])),
    undefined,
  );
  assert.equal(validateWsUpgrade(new Map([["sec-websocket-key", ` ${key} `]])), undefined);
  assert.equal(
    validateWsUpgrade(new Map([["sec-websocket-key", key], ["sec-websocket-version", " 13"]])),
    undefined,
  );
});

Deno.test("validateWsUpgrade() rejects a missing, blank or malformed key", () => {
  assert.equal(typeof validateWsUpgrade(new Map()), "string");
  assert.equal(typeof validateWsUpgrade(new Map([["sec-websocket-key", "   "]])), "string");
  assert.equal(typeof validateWsUpgrade(new Map([["sec-websocket-key", "not base64!!"]])), "string");
  // valid base64, wrong length (15 and 17 bytes)
  assert.equal(typeof validateWsUpgrade(new Map([["sec-websocket-key", btoa("x".repeat(15))]])), "string");
  assert.equal(typeof validateWsUpgrade(new Map([["sec-websocket-key", btoa("x".repeat(17))]])), "string");
});

Deno.test("validateWsUpgrade() rejects a version other than 13", () => {
  const key = "dGhlIHNhbXBsZSBub25jZQ==";
  for (const version of ["8", "12", "14", "", "13, 8"]) {
    const error = validateWsUpgrade(
      new Map([["sec-websocket-key", key], ["sec-websocket-version", version]]),
    );
    assert.equal(typeof error, "string", `version ${JSON.stringify(version)}`);
  }
});

Deno.test("generateWsKey() returns distinct keys that pass validateWsUpgrade()", () => {
  const a = generateWsKey();
  const b = generateWsKey();
  assert.notEqual(a, b);
  assert.match(a, /^[A-Za-z0-9+/]{22}==$/);
  assert.equal(validateWsUpgrade(new Map([["sec-websocket-key", a]])), undefined);
});

Deno.test("buildWsUpgradeRequest() builds a version 13 GET upgrade request", () => {
  assert.equal(
    buildWsUpgradeRequest("127.0.0.1:8888", "/", "dGhlIHNhbXBsZSBub25jZQ=="),
    "GET / HTTP/1.1\r\n" +
      "Host: 127.0.0.1:8888\r\n" +
      "Upgrade: websocket\r\n" +
      "Connection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\n" +
      "\r\n",
  );
});
