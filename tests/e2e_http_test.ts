/**
 * End to end over real sockets: HTTP/1.1 on the shared port (spec §9 + compat.md): status codes,
 * keep-alive, pipelining, malformed and oversized heads, slowloris, and J-IM's API routes.
 */
import assert from "node:assert/strict";
import { loggedInTcp, loggedInWs, startServer, type TestServer } from "./_server.ts";
import { eventually, httpGet, parseHttpHeadResponse, parseHttpResponse, RawConn, utf8 } from "./_raw.ts";

const SEND_OK = `{"code":10000,"command":12,"msg":"ok 发送成功"}`;
const SEND_OFFLINE = `{"code":10001,"command":12,"msg":"offline 用户不在线"}`;
const ONLINE = `{"code":10019,"msg":"online 用户在线"}`;
const OFFLINE = `{"code":10001,"msg":"offline 用户不在线"}`;
const INVALID = `{"code":10020,"msg":"Invalid verification! 不合法校验"}`;
const CLOSE_OK = `{"code":10021,"msg":"close ok! 关闭成功"}`;

interface Fetched {
  status: number;
  type: string | null;
  body: string;
  headers: Headers;
}

async function get(server: TestServer, path: string, init: RequestInit = {}): Promise<Fetched> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, init);
  const body = await res.text(); // always consume the body
  return { status: res.status, type: res.headers.get("content-type"), body, headers: res.headers };
}

function postJson(server: TestServer, path: string, body: string, headers: Record<string, string> = {}) {
  return get(server, path, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

Deno.test("http: GET / is the web page; unknown paths are a real 404", async () => {
  const server = await startServer();
  try {
    const page = await get(server, "/");
    assert.equal(page.status, 200);
    assert.match(page.type ?? "", /^text\/html/);
    assert.match(page.body, /<html/i);
    for (const path of ["/nope", "/api/nope", "/index.htm", "/test/json"]) {
      const res = await get(server, path);
      assert.equal(res.status, 404, path);
    }
  } finally {
    await server.stop();
  }
});

Deno.test("http: keep-alive: two requests on one connection, both answered", async () => {
  const server = await startServer();
  const c = await RawConn.open(server.port);
  try {
    await c.write(httpGet("/healthz"));
    const a = await c.take(parseHttpResponse);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get("connection"), "keep-alive");
    await c.write(httpGet("/"));
    const b = await c.take(parseHttpResponse);
    assert.equal(b.status, 200);
    assert.match(b.text, /<html/i);
    assert.equal(c.closed, false);
    // HEAD: a content-length but no body, and the connection stays in sync.
    await c.write(`HEAD / HTTP/1.1\r\nHost: x\r\n\r\n`);
    const head = await c.take(parseHttpHeadResponse);
    assert.equal(head.status, 200);
    assert.ok(Number(head.headers.get("content-length")) > 0);
    await c.write(httpGet("/healthz"));
    const after = await c.take(parseHttpResponse);
    assert.equal(after.status, 200);
    assert.equal(after.text, `{"status":"ok"}`);
  } finally {
    await c.close();
    await server.stop();
  }
});

Deno.test("http: Connection: close and HTTP/1.0 → server closes after the response", async () => {
  const server = await startServer();
  try {
    for (const req of [httpGet("/healthz", "Connection: close\r\n"), "GET /healthz HTTP/1.0\r\n\r\n"]) {
      const c = await RawConn.open(server.port);
      try {
        await c.write(req);
        const res = await c.take(parseHttpResponse);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("connection"), "close");
        const rest = await c.waitClosed();
        assert.equal(rest.length, 0);
      } finally {
        await c.close();
      }
    }
  } finally {
    await server.stop();
  }
});

Deno.test("http: pipelined requests in one write are answered in order", async () => {
  const server = await startServer();
  const c = await RawConn.open(server.port);
  try {
    const body = `{"from":"sys","to":"ghost","chatType":2,"content":"x"}`;
    await c.write(
      httpGet("/healthz") +
        httpGet("/missing") +
        `POST /api/message/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${utf8(body).length}\r\n\r\n${body}` +
        httpGet("/api/user/online?userid=ghost") +
        httpGet("/", "Connection: close\r\n"),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await c.take(parseHttpResponse)).status);
    // ghost is not a registered user: the send is refused with 404 (10025).
    assert.deepEqual(statuses, [200, 404, 404, 200, 200]);
    await c.waitClosed();
  } finally {
    await c.close();
    await server.stop();
  }
});

Deno.test("http: a malformed request line → 400, then close", async () => {
  const server = await startServer();
  try {
    for (
      const bad of ["GET /index.html\r\nHost: x\r\n\r\n", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", "BAD\r\n\r\n"]
    ) {
      const c = await RawConn.open(server.port);
      try {
        await c.write(bad);
        const res = await c.take(parseHttpResponse);
        assert.equal(res.status, 400, JSON.stringify(bad));
        await c.waitClosed();
      } finally {
        await c.close();
      }
    }
    // Requests whose body cannot be framed safely are refused and the connection closed.
    const unframeable: [string, number][] = [
      ["POST /api/message/send HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501],
      ["POST /api/message/send HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400],
      ["POST /api/message/send HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n\r\n", 400], // no Host
      ["GET / HTTP/1.1\nHost: x\n\n", 400], // bare LF
      ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505],
    ];
    for (const [req, status] of unframeable) {
      const u = await RawConn.open(server.port);
      try {
        await u.write(req);
        assert.equal((await u.take(parseHttpResponse)).status, status, JSON.stringify(req));
        await u.waitClosed();
      } finally {
        await u.close();
      }
    }
    // A bad request after a good one on the same connection.
    const c = await RawConn.open(server.port);
    try {
      await c.write(httpGet("/healthz"));
      assert.equal((await c.take(parseHttpResponse)).status, 200);
      await c.write("GET /x HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n");
      assert.equal((await c.take(parseHttpResponse)).status, 400);
      await c.waitClosed();
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("http: a head of 20480 bytes without its end → 431; a 20 000-byte head is fine", async () => {
  const server = await startServer();
  try {
    const start = "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ";
    const c = await RawConn.open(server.port);
    try {
      // Exactly the limit, no terminator: the server has read everything we sent, so its close
      // cannot turn into a reset that would swallow the response.
      await c.write(start + "a".repeat(20480 - start.length));
      const res = await c.take(parseHttpResponse);
      assert.equal(res.status, 431);
      await c.waitClosed();
    } finally {
      await c.close();
    }
    const ok = await RawConn.open(server.port);
    try {
      const head = start + "a".repeat(20000 - start.length - 4) + "\r\n\r\n";
      assert.equal(head.length, 20000);
      await ok.write(head);
      assert.equal((await ok.take(parseHttpResponse)).status, 200);
    } finally {
      await ok.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("http: Content-Length over maxBody → 413 as soon as the head is read", async () => {
  const server = await startServer({ maxBody: 1000 });
  const c = await RawConn.open(server.port);
  try {
    await c.write(`POST /api/message/send HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n`);
    assert.equal((await c.take(parseHttpResponse)).status, 413);
    await c.waitClosed();
  } finally {
    await c.close();
    await server.stop();
  }
});

Deno.test("http: a head trickled byte by byte is cut after handshakeTimeout", async () => {
  const server = await startServer({ handshakeTimeout: 500 });
  const c = await RawConn.open(server.port);
  try {
    const req = httpGet("/", "X-Slow: " + "s".repeat(100) + "\r\n");
    const t0 = Date.now();
    let sent = 0;
    while (!c.closed && sent < req.length && Date.now() - t0 < 5000) {
      if (!await c.write(req[sent++])) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await c.waitClosed(5000);
    const elapsed = Date.now() - t0;
    assert.ok(sent < req.length, "the whole head went through");
    assert.ok(elapsed >= 400, `cut too early: ${elapsed} ms`);
    assert.ok(elapsed <= 3000, `cut too late: ${elapsed} ms`);
  } finally {
    await c.close();
    await server.stop();
  }
});

Deno.test("http: POST /api/message/send delivers to an online user (10000) and reports offline (10001)", async () => {
  const server = await startServer();
  try {
    const bob = await loggedInTcp(server, "bob");
    const chat = `{"from":"sys","to":"bob","chatType":2,"content":"x"}`;
    const sent = await postJson(server, "/api/message/send", chat);
    assert.equal(sent.status, 200);
    assert.equal(sent.body, SEND_OK);
    const got = await bob.next(11);
    const data = got.body.data as Record<string, unknown>;
    assert.equal(data.from, "sys");
    assert.equal(data.to, "bob");
    assert.equal(data.content, "x");
    assert.equal(data.chatType, 2);

    // Numeric strings are accepted (J-IM's web demo sends them).
    const stringy = await postJson(
      server,
      "/api/message/send",
      `{"from":"sys","to":"bob","chatType":"2","content":"y"}`,
    );
    assert.equal(stringy.body, SEND_OK);
    assert.equal(((await bob.next(11)).body.data as { content: string }).content, "y");

    bob.close();
    await eventually(async () => (await get(server, "/api/user/online?userid=bob")).body === OFFLINE);
    const offline = await postJson(server, "/api/message/send", chat);
    assert.equal(offline.status, 200);
    assert.equal(offline.body, SEND_OFFLINE);
  } finally {
    await server.stop();
  }
});

Deno.test("http: /api/message/send: malformed JSON → 400 10002; GET → 405", async () => {
  const server = await startServer();
  try {
    for (const bad of ["{not json", "", "[]", `{"to":"bob","chatType":7}`]) {
      const res = await postJson(server, "/api/message/send", bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      const body = JSON.parse(res.body);
      assert.equal(body.code, 10002);
      assert.equal(body.command, 12);
    }
    const res = await get(server, "/api/message/send");
    assert.equal(res.status, 405);
    assert.match(res.headers.get("allow") ?? "", /POST/);
  } finally {
    await server.stop();
  }
});

Deno.test("http: /api/user/online", async () => {
  const server = await startServer();
  try {
    const missing = await get(server, "/api/user/online");
    assert.equal(missing.status, 400);
    assert.equal(missing.body, INVALID);
    assert.equal((await get(server, "/api/user/online?userid=")).body, INVALID);

    assert.equal((await get(server, "/api/user/online?userid=bob")).body, OFFLINE);
    const bob = await loggedInTcp(server, "bob");
    const online = await get(server, "/api/user/online?userid=bob");
    assert.equal(online.status, 200);
    assert.match(online.type ?? "", /^application\/json/);
    assert.equal(online.body, ONLINE);
    // Form bodies work too (J-IM reads params from the query or a form).
    const form = await get(server, "/api/user/online", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "userid=bob",
    });
    assert.equal(form.body, ONLINE);
    bob.close();
  } finally {
    await server.stop();
  }
});

Deno.test("http: /api/user/close closes all of the user's connections (TCP and WebSocket)", async () => {
  const server = await startServer();
  try {
    const tcp = await loggedInTcp(server, "bob");
    const ws = await loggedInWs(server, "bob");
    const carol = await loggedInTcp(server, "carol");
    assert.equal((await get(server, "/api/user/close")).body, INVALID);
    const res = await get(server, "/api/user/close?userid=bob");
    assert.equal(res.status, 200);
    assert.equal(res.body, CLOSE_OK);
    await tcp.waitClosed();
    await ws.waitClosed();
    assert.equal((await get(server, "/api/user/online?userid=bob")).body, OFFLINE);
    // Others are untouched.
    await carol.send(13, {});
    assert.equal((await carol.next(13)).command, 13);
    assert.equal(carol.closed, false);
  } finally {
    await server.stop();
  }
});

Deno.test("http: with apiToken, /api/* needs Authorization: Bearer", async () => {
  const server = await startServer({ apiToken: "s3cret" });
  try {
    const path = "/api/user/online?userid=bob";
    const none = await get(server, path);
    assert.equal(none.status, 401);
    const wrong = await get(server, path, { headers: { authorization: "Bearer nope" } });
    assert.equal(wrong.status, 401);
    const right = await get(server, path, { headers: { authorization: "Bearer s3cret" } });
    assert.equal(right.status, 200);
    assert.equal(right.body, OFFLINE);
    const send = await postJson(server, "/api/message/send", `{"to":"x","chatType":2}`);
    assert.equal(send.status, 401);
    const close = await get(server, "/api/user/close?userid=bob");
    assert.equal(close.status, 401);
    // The web page needs no token.
    assert.equal((await get(server, "/")).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("http: without apiToken, loopback clients may use the API", async () => {
  // Non-loopback clients cannot be simulated here (the server only sees 127.0.0.1).
  const server = await startServer();
  try {
    const res = await get(server, "/api/user/online?userid=bob");
    assert.equal(res.status, 200);
    assert.equal(res.body, OFFLINE);
  } finally {
    await server.stop();
  }
});

Deno.test("http: a POST body split across writes is read by Content-Length", async () => {
  const server = await startServer();
  const c = await RawConn.open(server.port);
  try {
    const bob = await loggedInTcp(server, "bob");
    const body = utf8(`{"from":"sys","to":"bob","chatType":2,"content":"分段"}`);
    const head = `POST /api/message/send HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;
    await c.write(head);
    await new Promise((r) => setTimeout(r, 20));
    await c.write(body.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    await c.write(body.subarray(10));
    const res = await c.take(parseHttpResponse);
    assert.equal(res.status, 200);
    assert.equal(res.text, SEND_OK);
    assert.equal(((await bob.next(11)).body.data as { content: string }).content, "分段");
  } finally {
    await c.close();
    await server.stop();
  }
});
