import assert from "node:assert/strict";
import { httpDate, jsonResponse, reasonPhrase, serializeHttpResponse } from "./http_response.ts";

const dec = new TextDecoder();
const NOW = Date.UTC(1994, 10, 6, 8, 49, 37, 250);
const DATE = "Sun, 06 Nov 1994 08:49:37 GMT";

Deno.test("httpDate: IMF-fixdate, cached per second", () => {
  assert.equal(httpDate(NOW), DATE);
  assert.equal(httpDate(NOW + 500), DATE);
  assert.equal(httpDate(NOW + 750), "Sun, 06 Nov 1994 08:49:38 GMT");
  assert.match(httpDate(), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
});

Deno.test("serializeHttpResponse: exact bytes", () => {
  const out = serializeHttpResponse({
    status: 200,
    headers: { "Content-Type": "text/plain" },
    body: "hi",
    keepAlive: true,
    now: NOW,
  });
  assert.equal(
    dec.decode(out),
    "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: keep-alive\r\n" +
      `server: jim\r\ndate: ${DATE}\r\n\r\nhi`,
  );
});

Deno.test("serializeHttpResponse: default clock matches by regex; close; binary body", () => {
  const out = dec.decode(
    serializeHttpResponse({ status: 404, body: new Uint8Array([0x61, 0x62]), keepAlive: false }),
  );
  assert.match(
    out,
    /^HTTP\/1\.1 404 Not Found\r\ncontent-length: 2\r\nconnection: close\r\nserver: jim\r\ndate: [^\r]+ GMT\r\n\r\nab$/,
  );
});

Deno.test("serializeHttpResponse: HEAD keeps content-length, drops body bytes", () => {
  const out = dec.decode(
    serializeHttpResponse({ status: 200, body: "你好", keepAlive: true, head: true, now: NOW }),
  );
  assert.ok(out.includes("content-length: 6\r\n"));
  assert.ok(out.endsWith("\r\n\r\n"));
});

Deno.test("serializeHttpResponse: framing headers from caller ignored, server/date overridable", () => {
  const out = dec.decode(serializeHttpResponse({
    status: 500,
    headers: [["Content-Length", "99"], ["Connection", "keep-alive"], ["Transfer-Encoding", "chunked"], [
      "Server",
      "x",
    ], ["Date", "d"]],
    keepAlive: false,
    now: NOW,
  }));
  assert.equal(
    out,
    "HTTP/1.1 500 Internal Server Error\r\nserver: x\r\ndate: d\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
  );
});

Deno.test("serializeHttpResponse: 204 and 101 have no content-length; 101 keeps connection", () => {
  const noContent = dec.decode(serializeHttpResponse({ status: 204, body: "x", keepAlive: true, now: NOW }));
  assert.equal(
    noContent,
    `HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\nserver: jim\r\ndate: ${DATE}\r\n\r\n`,
  );
  const upgrade = dec.decode(serializeHttpResponse({
    status: 101,
    headers: { upgrade: "websocket", connection: "Upgrade", "sec-websocket-accept": "abc" },
    keepAlive: true,
    now: NOW,
  }));
  assert.equal(
    upgrade,
    "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n" +
      `sec-websocket-accept: abc\r\nserver: jim\r\ndate: ${DATE}\r\n\r\n`,
  );
});

Deno.test("serializeHttpResponse: rejects header injection and bad status", () => {
  assert.throws(
    () => serializeHttpResponse({ status: 200, headers: { "x": "a\r\nb: c" }, keepAlive: true }),
    TypeError,
  );
  assert.throws(
    () => serializeHttpResponse({ status: 200, headers: { "x y": "a" }, keepAlive: true }),
    TypeError,
  );
  assert.throws(() => serializeHttpResponse({ status: 99, keepAlive: true }), RangeError);
  assert.equal(
    dec.decode(serializeHttpResponse({ status: 299, keepAlive: true })).split("\r\n")[0],
    "HTTP/1.1 299 ",
  );
});

Deno.test("reasonPhrase: table", () => {
  const expected: [number, string][] = [
    [200, "OK"],
    [201, "Created"],
    [301, "Moved Permanently"],
    [302, "Found"],
    [304, "Not Modified"],
    [400, "Bad Request"],
    [401, "Unauthorized"],
    [403, "Forbidden"],
    [405, "Method Not Allowed"],
    [408, "Request Timeout"],
    [411, "Length Required"],
    [413, "Content Too Large"],
    [414, "URI Too Long"],
    [429, "Too Many Requests"],
    [431, "Request Header Fields Too Large"],
    [501, "Not Implemented"],
    [503, "Service Unavailable"],
    [505, "HTTP Version Not Supported"],
  ];
  for (const [code, text] of expected) assert.equal(reasonPhrase(code), text);
});

Deno.test("jsonResponse: content type and body", () => {
  const out = dec.decode(jsonResponse(200, '{"a":1}', true));
  assert.match(
    out,
    /^HTTP\/1\.1 200 OK\r\ncontent-type: application\/json; charset=utf-8\r\ncontent-length: 7\r\n/,
  );
  assert.ok(out.endsWith('\r\n\r\n{"a":1}'));
  const head = dec.decode(jsonResponse(200, '{"a":1}', true, true));
  assert.ok(head.includes("content-length: 7\r\n") && head.endsWith("\r\n\r\n"));
});
