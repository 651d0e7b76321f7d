import assert from "node:assert/strict";
import {
  HttpParseError,
  type HttpRequest,
  HttpRequestParser,
  isWebSocketUpgrade,
  parseFormBody,
} from "./http_request.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const bytes = (s: string) => enc.encode(s);
const newParser = (maxHeaderBytes = 20480, maxBodyBytes = 1024) =>
  new HttpRequestParser({ maxHeaderBytes, maxBodyBytes });

function parseOne(raw: string, parser = newParser()): HttpRequest {
  const reqs = parser.push(bytes(raw));
  assert.equal(reqs.length, 1);
  return reqs[0];
}

function assertStatus(raw: string | Uint8Array, status: number, parser = newParser()) {
  const data = typeof raw === "string" ? bytes(raw) : raw;
  assert.throws(() => parser.push(data), (e: unknown) => {
    assert.ok(e instanceof HttpParseError, String(e));
    assert.equal(e.status, status, e.message);
    return true;
  });
}

const POST =
  "POST /api/send?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\nX-A: 1\r\nx-a:  2 \r\n\r\nhello world";

Deno.test("http parser: simple GET", () => {
  const r = parseOne("GET /a%20b/c?x=1&y=%E4%BD%A0+z HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n");
  assert.equal(r.method, "GET");
  assert.equal(r.target, "/a%20b/c?x=1&y=%E4%BD%A0+z");
  assert.equal(r.path, "/a b/c");
  assert.equal(r.query.get("x"), "1");
  assert.equal(r.query.get("y"), "你 z");
  assert.equal(r.version, "HTTP/1.1");
  assert.equal(r.headers.get("host"), "example");
  assert.equal(r.headers.get("accept"), "*/*");
  assert.equal(r.body.length, 0);
  assert.equal(r.keepAlive, true);
});

Deno.test("http parser: byte-by-byte with body, repeated headers joined", () => {
  const p = newParser();
  const data = bytes(POST);
  const got: HttpRequest[] = [];
  for (let i = 0; i < data.length; i++) {
    const chunk = new Uint8Array([data[i]]);
    got.push(...p.push(chunk));
    chunk[0] = 0; // caller reuses its buffer
    if (i < data.length - 1) {
      assert.equal(got.length, 0);
      assert.equal(p.hasPartial(), true);
    }
  }
  assert.equal(got.length, 1);
  const r = got[0];
  assert.equal(r.method, "POST");
  assert.equal(r.path, "/api/send");
  assert.equal(r.headers.get("x-a"), "1, 2");
  assert.equal(dec.decode(r.body), "hello world");
  assert.equal(p.hasPartial(), false);
});

Deno.test("http parser: pipelined requests in one chunk and split across chunks", () => {
  const raw = POST + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n" + "\r\n" + "GET /c HTTP/1.0\r\n\r\n" +
    "GET /d HTTP/1.1\r\nHo";
  const p = newParser();
  const buf = bytes(raw);
  const reqs = p.push(buf);
  buf.fill(0);
  assert.deepEqual(reqs.map((r) => r.path), ["/api/send", "/b", "/c"]);
  assert.equal(dec.decode(reqs[0].body), "hello world");
  assert.equal(p.hasPartial(), true);
  const more = p.push(bytes("st: a\r\n\r\nGET /e HTTP/1.1\r\nHost: a\r\n\r\n"));
  assert.deepEqual(more.map((r) => r.path), ["/d", "/e"]);
  assert.equal(p.hasPartial(), false);
});

Deno.test("http parser: every split point of a pipelined pair", () => {
  const raw = bytes(POST + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n");
  for (let i = 0; i <= raw.length; i++) {
    const p = newParser();
    const reqs = [...p.push(raw.slice(0, i)), ...p.push(raw.slice(i))];
    assert.deepEqual(reqs.map((r) => r.path), ["/api/send", "/b"], `split at ${i}`);
    assert.equal(dec.decode(reqs[0].body), "hello world");
  }
});

Deno.test("http parser: keep-alive semantics", () => {
  const ka = (version: string, conn?: string) =>
    parseOne(`GET / ${version}\r\nHost: a\r\n${conn === undefined ? "" : `Connection: ${conn}\r\n`}\r\n`)
      .keepAlive;
  assert.equal(ka("HTTP/1.1"), true);
  assert.equal(ka("HTTP/1.1", "close"), false);
  assert.equal(ka("HTTP/1.1", "Upgrade, Close"), false);
  assert.equal(ka("HTTP/1.1", "keep-alive"), true);
  assert.equal(ka("HTTP/1.0"), false);
  assert.equal(ka("HTTP/1.0", "Keep-Alive"), true);
  assert.equal(ka("HTTP/1.0", "close"), false);
  // HTTP/1.0 needs no Host.
  assert.equal(parseOne("GET / HTTP/1.0\r\n\r\n").version, "HTTP/1.0");
});

Deno.test("http parser: absolute-form target", () => {
  const r = parseOne("GET http://example.com:8080/x/y?a=b HTTP/1.1\r\nHost: example.com\r\n\r\n");
  assert.equal(r.path, "/x/y");
  assert.equal(r.query.get("a"), "b");
  assert.equal(parseOne("GET http://example.com?q=1 HTTP/1.1\r\nHost: x\r\n\r\n").path, "/");
});

Deno.test("http parser: Content-Length and Transfer-Encoding identity accepted", () => {
  const r = parseOne("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  assert.equal(dec.decode(r.body), "abc");
  const r2 = parseOne(
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 1\r\n\r\nz",
  );
  assert.equal(dec.decode(r2.body), "z");
});

Deno.test("http parser: 400 errors", () => {
  const cases = [
    "GET  / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1 \r\nHost: a\r\n\r\n",
    "GET /\r\nHost: a\r\n\r\n",
    "G(T / HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTX/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.10\r\nHost: a\r\n\r\n",
    "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
    "CONNECT a.com:443 HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET /%zz HTTP/1.1\r\nHost: a\r\n\r\n",
    "GET / HTTP/1.1\nHost: a\n\n", // bare LF
    "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", // bare CR
    "GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", // control char
    "GET / HTTP/1.1\r\nHost: a\r\nX-Long: a\r\n  folded\r\n\r\n", // obs-fold
    "GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX-Y : x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nX(Y): x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\n: x\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n",
    "GET / HTTP/1.1\r\n\r\n", // missing Host
    "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 4\r\n\r\nabcd",
  ];
  for (const raw of cases) assertStatus(raw, 400);
});

Deno.test("http parser: 400 detected early for bare LF, before the head ends", () => {
  assertStatus("GET / HTTP/1.1\nHo", 400);
});

Deno.test("http parser: errors are sticky", () => {
  const p = newParser();
  assertStatus("GET / HTTP/1.1\r\n\r\n", 400, p);
  assertStatus("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, p);
});

Deno.test("http parser: 431 as soon as the head passes the limit", () => {
  const p = newParser(64);
  assert.deepEqual(p.push(bytes("GET / HTTP/1.1\r\nHost: a\r\nX: " + "a".repeat(30))), []);
  assertStatus("a".repeat(10), 431, p);
  // A head of exactly the limit passes; one byte more fails.
  const head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  const exact = (n: number) => head + "a".repeat(n - head.length - 4) + "\r\n\r\n";
  assert.equal(exact(64).length, 64);
  assert.equal(parseOne(exact(64), newParser(64)).headers.get("x")?.length, 64 - head.length - 4);
  assertStatus(exact(65), 431, newParser(64));
  // Byte-by-byte: fails on the byte that reaches the limit without a terminator.
  const p2 = newParser(64);
  const data = bytes("GET / HTTP/1.1\r\nHost: a\r\nX: " + "a".repeat(100));
  for (let i = 0; i < 63; i++) assert.deepEqual(p2.push(data.subarray(i, i + 1)), []);
  assertStatus(data.subarray(63, 64), 431, p2);
});

Deno.test("http parser: 413 from Content-Length before the body arrives", () => {
  assertStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n", 413);
  assertStatus("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413);
  const r = parseOne("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1024\r\n\r\n" + "x".repeat(1024));
  assert.equal(r.body.length, 1024);
});

Deno.test("http parser: 501 for chunked and other transfer codings", () => {
  assertStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501);
  assertStatus("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
  assertStatus(
    "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n",
    501,
  );
});

Deno.test("http parser: 505 for other versions", () => {
  assertStatus("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
  assertStatus("GET / HTTP/0.9\r\n\r\n", 505);
  assertStatus("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
});

Deno.test("http parser: stops after a websocket upgrade; remainder is the frame bytes", () => {
  const head = "GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  const frames = new Uint8Array([0x81, 0x85, 1, 2, 3, 4, 0x0d, 0x0a, 0x47, 0x45, 0x54]);
  const data = new Uint8Array([
    ...bytes("GET /first HTTP/1.1\r\nHost: a\r\n\r\n"),
    ...bytes(head),
    ...frames,
  ]);
  const p = newParser();
  const reqs = p.push(data);
  data.fill(0);
  assert.deepEqual(reqs.map((r) => r.path), ["/first", "/ws"]);
  assert.equal(isWebSocketUpgrade(reqs[1]), true);
  assert.equal(p.stopped, true);
  assert.equal(p.hasPartial(), false);
  assert.deepEqual(p.push(new Uint8Array([9, 9])), []);
  assert.deepEqual(p.takeRemainder(), new Uint8Array([...frames, 9, 9]));
  assert.deepEqual(p.takeRemainder(), new Uint8Array(0));
});

Deno.test("http parser: upgrade detection by sec-websocket-key alone, head split across chunks", () => {
  const p = newParser();
  assert.deepEqual(p.push(bytes("GET /ws HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\n")), []);
  const reqs = p.push(new Uint8Array([...bytes("\r\n"), 0x88, 0x80]));
  assert.equal(reqs.length, 1);
  assert.deepEqual(p.takeRemainder(), new Uint8Array([0x88, 0x80]));
  assert.equal(isWebSocketUpgrade(parseOne("GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c\r\n\r\n")), false);
});

Deno.test("parseFormBody: query and urlencoded body merged, query first", () => {
  const body = "name=%E5%BC%A0+%E4%B8%89&a=from+body&empty=&x%2By=1%2B2";
  const r = parseOne(
    "POST /login?a=from+query&q=%2F HTTP/1.1\r\nHost: a\r\n" +
      "Content-Type: Application/X-WWW-Form-Urlencoded; charset=UTF-8\r\n" +
      `Content-Length: ${bytes(body).length}\r\n\r\n${body}`,
  );
  const params = parseFormBody(r);
  assert.equal(params.get("name"), "张 三");
  assert.equal(params.get("a"), "from query");
  assert.deepEqual(params.getAll("a"), ["from query", "from body"]);
  assert.equal(params.get("q"), "/");
  assert.equal(params.get("empty"), "");
  assert.equal(params.get("x+y"), "1+2");
  // The request's own query is not modified.
  assert.deepEqual(r.query.getAll("a"), ["from query"]);
});

Deno.test("parseFormBody: other content types contribute only the query", () => {
  const r = parseOne(
    'POST /x?a=1 HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"b":2}',
  );
  assert.deepEqual([...parseFormBody(r)], [["a", "1"]]);
});
