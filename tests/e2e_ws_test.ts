/**
 * End to end over real sockets: WebSocket on the shared port (spec §8 + compat.md): the exact
 * 101, J-IM's query login, RFC 6455 framing and errors, Origin checks, and interop with Deno's
 * own WebSocket client (an independent implementation).
 */
import assert from "node:assert/strict";
import { JimClient, OPCODE } from "../src/client/jim_client.ts";
import { loggedInTcp, loggedInWs, startServer, text } from "./_server.ts";
import {
  openRawWs,
  parseHttpResponse,
  parseWsFrame,
  RawConn,
  type RawWsFrame,
  SAMPLE_WS_ACCEPT,
  SAMPLE_WS_KEY,
  str,
  utf8,
  wsFrame,
  wsUpgrade,
} from "./_raw.ts";

const HEARTBEAT_REPLY = `{"command":13,"data":{"hbbyte":-128}}`;
const UNKNOWN_CMD_REPLY = `{"code":10017,"command":0,"msg":"cmd failed! 未知的cmd命令!"}`;
const HEARTBEAT = `{"cmd":13,"hbbyte":"-127"}`;

function closeCodeOf(frame: RawWsFrame): number {
  assert.equal(frame.opcode, OPCODE.CLOSE);
  assert.ok(frame.payload.length >= 2, "close frame without a code");
  return (frame.payload[0] << 8) | frame.payload[1];
}

/** The next server frame must be an unmasked final text frame; returns its text. */
async function nextText(c: RawConn): Promise<string> {
  const f = await c.take(parseWsFrame);
  assert.equal(f.b0, 0x81, `expected a final text frame, got 0x${f.b0.toString(16)}`);
  assert.equal(f.masked, false);
  return str(f.payload);
}

/** Expects a close frame with `code`, then the TCP close. */
async function expectClose(c: RawConn, code: number): Promise<void> {
  const f = await c.take(parseWsFrame);
  assert.equal(f.masked, false);
  assert.equal(closeCodeOf(f), code);
  const rest = await c.waitClosed();
  assert.equal(rest.length, 0);
}

Deno.test("ws: the 101 response is byte-exact", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(wsUpgrade("/some/path?x=1"));
      const expected = "HTTP/1.1 101 Switching Protocols\r\n" +
        "content-length: 0\r\n" +
        "upgrade: WebSocket\r\n" +
        "connection: upgrade\r\n" +
        `sec-websocket-accept: ${SAMPLE_WS_ACCEPT}\r\n` +
        "\r\n";
      const got = await c.takeBytes(utf8(expected).length);
      assert.equal(str(got), expected);
      // Nothing else is sent without a login query.
      await c.write(wsFrame(OPCODE.TEXT, HEARTBEAT));
      assert.equal(await nextText(c), HEARTBEAT_REPLY);
    } finally {
      await c.close();
    }
    assert.ok(SAMPLE_WS_KEY.length > 0);
  } finally {
    await server.stop();
  }
});

Deno.test("ws: query login with default groups: cmd 9 notifies, then cmd 6 10007", async () => {
  const server = await startServer({ defaultGroups: ["100"] });
  try {
    const first = await loggedInWs(server, "first");
    const c = await server.ws("/?username=u1&password=p");
    const notify = await c.next();
    assert.equal(notify.command, 9);
    assert.equal(
      text(notify.raw),
      `{"code":10011,"command":9,"group":"100","msg":"join group ok! 加入群组成功!",` +
        `"user":{"nick":"u1","status":"online","userId":"u1"}}`,
    );
    const login = await c.next();
    assert.equal(login.command, 6);
    assert.equal(text(login.raw), `{"code":10007,"command":6,"msg":"ok 登录成功!"}`);
    // The other member of group 100 saw the join too.
    const seen = await first.next((p) =>
      p.command === 9 && (p.body.user as { userId: string }).userId === "u1"
    );
    assert.equal(seen.body.group, "100");
  } finally {
    await server.stop();
  }
});

Deno.test("ws: username without password → 10008, then the connection is closed", async () => {
  const server = await startServer();
  try {
    const c = await openRawWs(server.port, "/?username=nopass");
    try {
      assert.equal(await nextText(c), `{"code":10008,"command":6,"msg":"login failed ! 登录失败!"}`);
      const f = await c.take(parseWsFrame);
      assert.equal(f.opcode, OPCODE.CLOSE);
      await c.waitClosed();
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: ?token= login with a token issued by cmd 21", async () => {
  const server = await startServer();
  try {
    const tcp = await loggedInTcp(server, "tok");
    await tcp.send(21, {});
    const issued = await tcp.next(22);
    const token = (issued.body.data as { token: string }).token;
    assert.equal(typeof token, "string");
    const ws = await server.ws(`/?token=${encodeURIComponent(token)}`);
    const login = await ws.next(6);
    assert.equal(login.body.code, 10007);
    // It is really "tok": a chat to tok arrives on the WebSocket as well.
    const other = await loggedInTcp(server, "other");
    await other.send(11, { chatType: 2, to: "tok", content: "via token" });
    assert.equal((await other.next(12)).body.code, 10000);
    assert.equal(((await ws.next(11)).body.data as { from: string }).from, "other");
    // A bad token fails like a bad password.
    const bad = await server.ws("/?token=not-a-token");
    assert.equal((await bad.next(6)).body.code, 10008);
    await bad.waitClosed();
  } finally {
    await server.stop();
  }
});

Deno.test("ws: without a login query the client must send cmd 5", async () => {
  const server = await startServer();
  try {
    const c = await server.ws("/");
    await c.send(13, { hbbyte: "-127" });
    const first = await c.next();
    assert.equal(first.command, 13, "something was sent before the first request");
    await c.send(11, { chatType: 2, to: "x", content: "too early" });
    assert.equal((await c.next(12)).body.code, 10022);
    const login = await c.login("late", "pw");
    assert.equal(login.body.code, 10007);
  } finally {
    await server.stop();
  }
});

Deno.test("ws: ping → pong with the same payload, unmasked", async () => {
  const server = await startServer();
  try {
    const c = await openRawWs(server.port);
    try {
      for (const payload of [utf8("ping-123"), new Uint8Array(0), new Uint8Array(125).fill(7)]) {
        await c.write(wsFrame(OPCODE.PING, payload));
        const pong = await c.take(parseWsFrame);
        assert.equal(pong.b0, 0x8a);
        assert.equal(pong.masked, false);
        assert.deepEqual(pong.payload, payload);
      }
      // Unsolicited pongs are ignored.
      await c.write(wsFrame(OPCODE.PONG, "x"));
      await c.write(wsFrame(OPCODE.TEXT, HEARTBEAT));
      assert.equal(await nextText(c), HEARTBEAT_REPLY);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: a close frame is echoed with the same code, then TCP is closed", async () => {
  const server = await startServer();
  try {
    for (const code of [1000, 1001, 4001]) {
      const c = await loggedInWs(server, `closer${code}`);
      await c.sendWsClose(code);
      await c.waitClosed();
      assert.equal(c.closeCode, code);
    }
    // An empty close frame is answered with a close frame too (1000).
    const raw = await openRawWs(server.port);
    try {
      await raw.write(wsFrame(OPCODE.CLOSE, new Uint8Array(0)));
      const f = await raw.take(parseWsFrame);
      assert.equal(f.opcode, OPCODE.CLOSE);
      assert.ok(f.payload.length === 0 || closeCodeOf(f) === 1000);
      await raw.waitClosed();
    } finally {
      await raw.close();
    }
    // The closed users are gone from the registry.
    assert.equal(server.app.services.registry.isOnline("closer1000"), false);
  } finally {
    await server.stop();
  }
});

Deno.test("ws: fragmented messages are reassembled (control frames may interleave)", async () => {
  const server = await startServer();
  try {
    const c = await openRawWs(server.port);
    try {
      await c.write(wsFrame(OPCODE.TEXT, `{"cmd":13,`, { fin: false }));
      await c.write(wsFrame(OPCODE.PING, "mid"));
      await c.write(wsFrame(OPCODE.CONTINUATION, `"hbbyte":`, { fin: false }));
      await c.write(wsFrame(OPCODE.CONTINUATION, `"-127"}`));
      const pong = await c.take(parseWsFrame);
      assert.equal(pong.opcode, OPCODE.PONG);
      assert.equal(str(pong.payload), "mid");
      assert.equal(await nextText(c), HEARTBEAT_REPLY);

      // A multi-byte character split across fragments is fine ("中" = e4 b8 ad).
      const json = utf8(`{"cmd":13,"x":"中"}`);
      const cut = json.indexOf(0xb8);
      await c.write(wsFrame(OPCODE.TEXT, json.subarray(0, cut), { fin: false }));
      await c.write(wsFrame(OPCODE.CONTINUATION, json.subarray(cut)));
      assert.equal(await nextText(c), HEARTBEAT_REPLY);

      // Binary messages carry JSON too.
      await c.write(wsFrame(OPCODE.BINARY, utf8(HEARTBEAT)));
      assert.equal(await nextText(c), HEARTBEAT_REPLY);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: protocol violations close with the RFC 6455 code", async () => {
  const server = await startServer({ maxBody: 1000 });
  try {
    const cases: [string, Uint8Array[], number][] = [
      ["unmasked client frame", [wsFrame(OPCODE.TEXT, HEARTBEAT, { mask: null })], 1002],
      ["reserved data opcode 3", [wsFrame(0x3, HEARTBEAT)], 1002],
      ["reserved control opcode 0xB", [wsFrame(0xb, "")], 1002],
      ["RSV1 without an extension", [wsFrame(OPCODE.TEXT, HEARTBEAT, { rsv: 0x40 })], 1002],
      ["continuation without a message", [wsFrame(OPCODE.CONTINUATION, HEARTBEAT)], 1002],
      ["fragmented ping", [wsFrame(OPCODE.PING, "x", { fin: false })], 1002],
      ["ping payload over 125 bytes", [wsFrame(OPCODE.PING, "p".repeat(126))], 1002],
      ["close frame with a 1-byte payload", [wsFrame(OPCODE.CLOSE, new Uint8Array([3]))], 1002],
      ["close frame with reserved code 1005", [wsFrame(OPCODE.CLOSE, new Uint8Array([0x03, 0xed]))], 1002],
      ["close frame with code 999", [wsFrame(OPCODE.CLOSE, new Uint8Array([0x03, 0xe7]))], 1002],
      ["new message inside a fragmented one", [
        wsFrame(OPCODE.TEXT, "{", { fin: false }),
        wsFrame(OPCODE.TEXT, HEARTBEAT),
      ], 1002],
      ["64-bit length with the high bit set", [
        new Uint8Array([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]),
      ], 1002],
      // Only the header of a 2^40-byte frame: refused at once, nothing allocated or awaited.
      ["a 2^40-byte frame header", [new Uint8Array([0x81, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4])], 1009],
      [
        "invalid UTF-8 in a text frame",
        [wsFrame(OPCODE.TEXT, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))],
        1007,
      ],
      ["message over maxBody", [wsFrame(OPCODE.TEXT, `{"cmd":13}` + " ".repeat(991))], 1009],
      [
        "fragments over maxBody in total",
        [
          wsFrame(OPCODE.TEXT, " ".repeat(600), { fin: false }),
          wsFrame(OPCODE.CONTINUATION, " ".repeat(401)),
        ],
        1009,
      ],
    ];
    for (const [what, frames, code] of cases) {
      const c = await openRawWs(server.port);
      try {
        for (const f of frames) await c.write(f);
        await expectClose(c, code).catch((err) => {
          throw new Error(`${what}: ${err.message}`);
        });
      } finally {
        await c.close();
      }
    }
    // Exactly maxBody is fine.
    const ok = await openRawWs(server.port);
    try {
      await ok.write(wsFrame(OPCODE.TEXT, `{"cmd":13}` + " ".repeat(990)));
      assert.equal(await nextText(ok), HEARTBEAT_REPLY);
    } finally {
      await ok.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: the client class sees the same close codes (unmasked frame, bad UTF-8)", async () => {
  const server = await startServer();
  try {
    const a = await server.ws("/");
    await a.sendRaw(wsFrame(OPCODE.TEXT, HEARTBEAT, { mask: null }));
    await a.waitClosed();
    assert.equal(a.closeCode, 1002);
    const b = await server.ws("/");
    await b.sendWsFrame(OPCODE.TEXT, new Uint8Array([0xc3, 0x28]));
    await b.waitClosed();
    assert.equal(b.closeCode, 1007);
  } finally {
    await server.stop();
  }
});

Deno.test("ws: 16-bit and 64-bit payload lengths both ways; server frames are unmasked text", async () => {
  const server = await startServer();
  try {
    const bob = await openRawWs(server.port, "/?username=bob&password=pw");
    try {
      const login = JSON.parse(await nextText(bob));
      assert.equal(login.code, 10007);
      const alice = await loggedInWs(server, "alice");
      for (const [size, len7] of [[300, 126], [70_000, 127], [60, 126]]) {
        const content = "x".repeat(size);
        await alice.send(11, { chatType: 2, to: "bob", content });
        assert.equal((await alice.next(12)).body.code, 10000);
        const f = await bob.take(parseWsFrame);
        assert.equal(f.b0, 0x81);
        assert.equal(f.masked, false);
        assert.equal(f.len7, len7, `length form for a ${size}-byte content`);
        const got = JSON.parse(str(f.payload));
        assert.equal(got.command, 11);
        assert.equal(got.data.content, content);
        assert.equal(got.data.from, "alice");
      }
      // Small replies use the 7-bit form.
      await bob.write(wsFrame(OPCODE.TEXT, HEARTBEAT));
      const small = await bob.take(parseWsFrame);
      assert.equal(small.len7, HEARTBEAT_REPLY.length);
    } finally {
      await bob.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: non-JSON text → 10017 text reply, connection kept", async () => {
  const server = await startServer();
  try {
    const c = await openRawWs(server.port);
    try {
      for (const msg of ["hello", "", "[]", `{"cmd":99}`, `{"nocmd":true}`, `{"cmd":"abc"}`]) {
        await c.write(wsFrame(OPCODE.TEXT, msg));
        assert.equal(await nextText(c), UNKNOWN_CMD_REPLY, `for ${JSON.stringify(msg)}`);
      }
      await c.write(wsFrame(OPCODE.TEXT, HEARTBEAT));
      assert.equal(await nextText(c), HEARTBEAT_REPLY);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: frames split across many TCP writes, and several frames in one write", async () => {
  const server = await startServer();
  try {
    // The upgrade head and the first frame in one write, then a frame one byte per write.
    const c = await RawConn.open(server.port);
    try {
      const head = utf8(wsUpgrade("/?username=split&password=pw"));
      const frame = wsFrame(OPCODE.TEXT, HEARTBEAT);
      await c.write(new Uint8Array([...head, ...frame]));
      assert.equal((await c.take(parseHttpResponse)).status, 101);
      assert.equal(JSON.parse(await nextText(c)).code, 10007);
      assert.equal(await nextText(c), HEARTBEAT_REPLY);

      for (let i = 0; i < frame.length; i++) {
        await c.write(frame.subarray(i, i + 1));
        if (i % 4 === 0) await new Promise((r) => setTimeout(r, 1));
      }
      assert.equal(await nextText(c), HEARTBEAT_REPLY);

      // A 16-bit-length frame in uneven pieces.
      const big = wsFrame(OPCODE.TEXT, `{"cmd":13,"pad":"${"p".repeat(5000)}"}`);
      for (let off = 0; off < big.length; off += 997) await c.write(big.subarray(off, off + 997));
      assert.equal(await nextText(c), HEARTBEAT_REPLY);

      // Three frames in one write: three replies in order.
      await c.write(
        new Uint8Array([
          ...wsFrame(OPCODE.TEXT, HEARTBEAT),
          ...wsFrame(OPCODE.TEXT, "junk"),
          ...wsFrame(OPCODE.TEXT, HEARTBEAT),
        ]),
      );
      assert.equal(await nextText(c), HEARTBEAT_REPLY);
      assert.equal(await nextText(c), UNKNOWN_CMD_REPLY);
      assert.equal(await nextText(c), HEARTBEAT_REPLY);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: allowedOrigins refuses other origins with 403 and no upgrade", async () => {
  const server = await startServer({ allowedOrigins: ["http://ok"] });
  try {
    const evil = await RawConn.open(server.port);
    try {
      await evil.write(wsUpgrade("/?username=e&password=p", "Origin: http://evil\r\n"));
      const res = await evil.take(parseHttpResponse);
      assert.equal(res.status, 403);
      assert.equal(res.headers.has("upgrade"), false);
      assert.equal(res.headers.has("sec-websocket-accept"), false);
      const rest = await evil.waitClosed();
      assert.equal(rest.length, 0);
    } finally {
      await evil.close();
    }
    assert.equal(server.app.services.registry.isOnline("e"), false);

    const ok = await JimClient.connectWs({
      port: server.port,
      path: "/?username=o&password=p",
      headers: { Origin: "http://ok" },
    });
    try {
      assert.equal((await ok.next(6)).body.code, 10007);
    } finally {
      ok.close();
    }

    // Native clients send no Origin; the allow-list only keeps other sites' pages out.
    const native = await JimClient.connectWs({ port: server.port, path: "/?username=n&password=p" });
    try {
      assert.equal((await native.next(6)).body.code, 10007);
    } finally {
      native.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: heartbeat timeout closes an idle WebSocket with a close frame", async () => {
  const server = await startServer({ heartbeatTimeout: 300 });
  try {
    const c = await openRawWs(server.port, "/?username=idle&password=pw");
    try {
      assert.equal(JSON.parse(await nextText(c)).code, 10007);
      const t0 = Date.now();
      const f = await c.take(parseWsFrame, 3000);
      assert.equal(f.opcode, OPCODE.CLOSE);
      await c.waitClosed();
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 200 && elapsed <= 2000, `closed after ${elapsed} ms`);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("ws: interop with Deno's built-in WebSocket client", async () => {
  const server = await startServer();
  try {
    const bob = await loggedInTcp(server, "bob");
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/?username=a&password=b`);
    const inbox: Record<string, unknown>[] = [];
    let wake: (() => void) | undefined;
    ws.onmessage = (e) => {
      assert.equal(typeof e.data, "string", "server frames must be text");
      inbox.push(JSON.parse(e.data));
      wake?.();
    };
    const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    const nextMsg = async (command: number) => {
      const deadline = Date.now() + 5000;
      for (;;) {
        const i = inbox.findIndex((m) => m.command === command);
        if (i >= 0) return inbox.splice(i, 1)[0];
        if (Date.now() > deadline) throw new Error(`no command ${command}; inbox ${JSON.stringify(inbox)}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    };
    try {
      const login = await nextMsg(6);
      assert.deepEqual(login, { code: 10007, command: 6, msg: "ok 登录成功!" });
      ws.send(JSON.stringify({ cmd: 11, chatType: 2, to: "bob", content: "from deno" }));
      assert.equal((await nextMsg(12)).code, 10000);
      const atBob = await bob.next(11);
      assert.equal((atBob.body.data as { content: string }).content, "from deno");
      await bob.send(11, { chatType: 2, to: "a", content: "back to deno" });
      const got = await nextMsg(11);
      assert.equal((got.data as { content: string; from: string }).content, "back to deno");
      assert.equal((got.data as { content: string; from: string }).from, "bob");
      ws.close(1000);
      const event = await closed;
      assert.equal(event.code, 1000);
      assert.equal(event.wasClean, true);
    } finally {
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await closed;
      }
    }
  } finally {
    await server.stop();
  }
});
