/**
 * End to end over real sockets: the J-IM binary TCP protocol (spec §6 + compat.md): framing
 * under any chunking, framing errors, unknown commands, synSeq, heartbeat and its timeout.
 */
import assert from "node:assert/strict";
import { loggedInTcp, sleep, startServer } from "./_server.ts";
import { hex, parseTcpFrame, RawConn, str, tcpFrame } from "./_raw.ts";

const HEARTBEAT_REPLY = `{"command":13,"data":{"hbbyte":-128}}`;
const UNKNOWN_CMD_REPLY = `{"code":10017,"command":0,"msg":"cmd failed! 未知的cmd命令!"}`;
const BAD_REQUEST_REPLY = `{"code":10023,"command":12,"msg":"bad request 请求格式不正确"}`;
const JIM_HEARTBEAT = tcpFrame(13, new Uint8Array([0x80]));

Deno.test("tcp: login and chat sent one byte per write", async () => {
  const server = await startServer();
  try {
    const bob = await loggedInTcp(server, "bob");
    const alice = await RawConn.open(server.port);
    try {
      const bytes = new Uint8Array([
        ...tcpFrame(5, `{"cmd":5,"password":"pw","userId":"alice"}`),
        ...tcpFrame(11, `{"chatType":2,"cmd":11,"content":"byte by byte","msgType":0,"to":"bob"}`),
      ]);
      for (let i = 0; i < bytes.length; i++) {
        assert.ok(await alice.write(bytes.subarray(i, i + 1)));
        if (i % 8 === 0) await sleep(1); // let the server see many small reads
      }
      const login = await alice.take(parseTcpFrame);
      assert.equal(login.cmd, 6);
      assert.equal(str(login.body), `{"code":10007,"command":6,"msg":"ok 登录成功!"}`);
      const ack = await alice.take(parseTcpFrame);
      assert.equal(ack.cmd, 12);
      assert.equal(str(ack.body), `{"code":10000,"command":12,"msg":"ok 发送成功"}`);
      const got = await bob.next(11);
      const data = got.body.data as Record<string, unknown>;
      assert.equal(data.content, "byte by byte");
      assert.equal(data.from, "alice");
    } finally {
      await alice.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: several frames in one write are all answered, in order", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(
        new Uint8Array([
          ...JIM_HEARTBEAT,
          ...tcpFrame(5, `{"password":"pw","userId":"carol"}`),
          ...tcpFrame(99, ""),
          ...tcpFrame(21, "{}"),
          ...tcpFrame(13, `{"cmd":13,"hbbyte":"-127"}`),
        ]),
      );
      const cmds: number[] = [];
      for (let i = 0; i < 5; i++) cmds.push((await c.take(parseTcpFrame)).cmd);
      assert.deepEqual(cmds, [13, 6, 0, 22, 13]);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: exact reply frames (header bytes, mask 0x51) for heartbeat 0x80 and handshake", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(JIM_HEARTBEAT);
      const hb = await c.take(parseTcpFrame);
      assert.equal(hex(hb.bytes.subarray(0, 7)), "01 51 0d 00 00 00 25");
      assert.equal(str(hb.body), HEARTBEAT_REPLY);
      await c.write(tcpFrame(1, `{"cmd":1,"hbyte":-127}`));
      const hs = await c.take(parseTcpFrame);
      assert.equal(hex(hs.bytes.subarray(0, 7)), "01 51 02 00 00 00 23");
      assert.equal(str(hs.body), `{"command":2,"data":{"hbyte":-127}}`);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: a bad version byte closes the connection with nothing sent", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(JIM_HEARTBEAT);
      assert.equal(str((await c.take(parseTcpFrame)).body), HEARTBEAT_REPLY);
      await c.write(tcpFrame(13, new Uint8Array([0x80]), { version: 0x02 }));
      const rest = await c.waitClosed();
      assert.equal(rest.length, 0, `unexpected bytes: ${hex(rest)}`);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: body length limit: maxBody accepted, maxBody + 1 closes", async () => {
  const server = await startServer({ maxBody: 1000 });
  try {
    const ok = await RawConn.open(server.port);
    const tooBig = await RawConn.open(server.port);
    try {
      // Heartbeat bodies are not parsed, so a 1000-byte body is answered.
      await ok.write(tcpFrame(13, new Uint8Array(1000).fill(0x20)));
      assert.equal(str((await ok.take(parseTcpFrame)).body), HEARTBEAT_REPLY);
      // Only the header announcing 1001 bytes: the server must not wait for the body.
      await tooBig.write(tcpFrame(13, new Uint8Array(0), { length: 1001 }));
      const rest = await tooBig.waitClosed();
      assert.equal(rest.length, 0);
    } finally {
      await ok.close();
      await tooBig.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: a negative body length closes the connection", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(tcpFrame(13, new Uint8Array(0), { length: -1 }));
      const rest = await c.waitClosed();
      assert.equal(rest.length, 0);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: unknown cmd byte → 10017 with command 0, connection kept", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      for (const cmd of [99, 255, 16]) {
        await c.write(tcpFrame(cmd, "{}"));
        const reply = await c.take(parseTcpFrame);
        assert.equal(reply.cmd, 0);
        assert.equal(hex(reply.bytes.subarray(0, 7)), "01 51 00 00 00 00 42");
        assert.equal(str(reply.body), UNKNOWN_CMD_REPLY);
      }
      await c.write(JIM_HEARTBEAT);
      assert.equal(str((await c.take(parseTcpFrame)).body), HEARTBEAT_REPLY);
      assert.equal(c.closed, false);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: garbage JSON on cmd 11 → 10023, connection kept", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      for (const garbage of ["not json", "{", "[1,2]", "\u00ff\u00fe"]) {
        await c.write(tcpFrame(11, garbage));
        const reply = await c.take(parseTcpFrame);
        assert.equal(reply.cmd, 12);
        assert.equal(str(reply.body), BAD_REQUEST_REPLY, `for body ${JSON.stringify(garbage)}`);
      }
      // Also after login (the body is parsed before the login guard either way).
      await c.write(tcpFrame(5, `{"password":"pw","userId":"dave"}`));
      assert.equal((await c.take(parseTcpFrame)).cmd, 6);
      await c.write(tcpFrame(11, new Uint8Array([0xc3, 0x28])));
      assert.equal(str((await c.take(parseTcpFrame)).body), BAD_REQUEST_REPLY);
      await c.write(JIM_HEARTBEAT);
      assert.equal(str((await c.take(parseTcpFrame)).body), HEARTBEAT_REPLY);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: synSeq requests are answered with the same synSeq (mask 0xF1)", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(tcpFrame(13, new Uint8Array([0x80]), { mask: 0x20, synSeq: 0x4b0 }));
      const hb = await c.take(parseTcpFrame);
      assert.equal(hex(hb.bytes.subarray(0, 11)), "01 f1 00 00 04 b0 0d 00 00 00 25");
      assert.equal(str(hb.body), HEARTBEAT_REPLY);

      // A login with synSeq: the reply carries it too.
      await c.write(tcpFrame(5, `{"password":"pw","userId":"erin"}`, { mask: 0x71, synSeq: 0x7fffffff }));
      const login = await c.take(parseTcpFrame);
      assert.equal(login.mask, 0xf1);
      assert.equal(login.synSeq, 0x7fffffff);
      assert.equal(login.cmd, 6);
      assert.equal(JSON.parse(str(login.body)).code, 10007);

      // Error replies keep it as well.
      await c.write(tcpFrame(99, "", { synSeq: 7 }));
      const unknown = await c.take(parseTcpFrame);
      assert.equal(unknown.synSeq, 7);
      assert.equal(str(unknown.body), UNKNOWN_CMD_REPLY);

      // Bit 0x20 with synSeq 0: processed, plain reply without a synSeq.
      await c.write(tcpFrame(13, new Uint8Array([0x80]), { mask: 0x20, synSeq: 0 }));
      const plain = await c.take(parseTcpFrame);
      assert.equal(hex(plain.bytes.subarray(0, 7)), "01 51 0d 00 00 00 25");
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: input mask bits other than 0x20 are ignored", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      for (const mask of [0x00, 0x10, 0x51, 0xc0, 0x8f]) {
        await c.write(tcpFrame(13, new Uint8Array([0x80]), { mask }));
        const hb = await c.take(parseTcpFrame);
        assert.equal(hb.mask, 0x51);
        assert.equal(str(hb.body), HEARTBEAT_REPLY);
      }
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: a large body split across writes at awkward boundaries", async () => {
  const server = await startServer();
  try {
    const bob = await loggedInTcp(server, "bob");
    const content = "界".repeat(30_000); // 90 000 UTF-8 bytes
    const frame = tcpFrame(11, JSON.stringify({ chatType: 2, to: "bob", content }));
    const raw = await RawConn.open(server.port);
    try {
      await raw.write(tcpFrame(5, `{"password":"pw","userId":"alice"}`));
      assert.equal((await raw.take(parseTcpFrame)).cmd, 6);
      for (const cut of [1, 6, 7, 8, 4095, 50_000]) {
        // header split inside, body split inside a multi-byte character…
        await raw.write(frame.subarray(0, cut));
        await sleep(5);
        await raw.write(frame.subarray(cut));
        const ack = await raw.take(parseTcpFrame);
        assert.equal(JSON.parse(str(ack.body)).code, 10000);
        const got = await bob.next(11);
        assert.equal((got.body.data as Record<string, unknown>).content, content);
      }
    } finally {
      await raw.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: heartbeat timeout closes an idle connection within ~2× the timeout", async () => {
  const server = await startServer({ heartbeatTimeout: 300 });
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(JIM_HEARTBEAT);
      await c.take(parseTcpFrame);
      const t0 = Date.now();
      await c.waitClosed(3000);
      const elapsed = Date.now() - t0;
      assert.ok(elapsed >= 200, `closed too early: ${elapsed} ms`);
      assert.ok(elapsed <= 2000, `closed too late: ${elapsed} ms`);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: heartbeats every 100 ms keep a connection open past the timeout", async () => {
  const server = await startServer({ heartbeatTimeout: 300 });
  try {
    const c = await RawConn.open(server.port);
    try {
      const until = Date.now() + 1200;
      let replies = 0;
      while (Date.now() < until) {
        assert.ok(await c.write(JIM_HEARTBEAT), "write failed: connection closed");
        await c.take(parseTcpFrame);
        replies++;
        await sleep(100);
      }
      assert.equal(c.closed, false);
      assert.ok(replies >= 8, `only ${replies} heartbeats answered`);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: cmd 14 close acknowledges then closes", async () => {
  const server = await startServer();
  try {
    const c = await RawConn.open(server.port);
    try {
      await c.write(tcpFrame(14, "{}"));
      const reply = await c.take(parseTcpFrame);
      assert.equal(str(reply.body), `{"code":10021,"command":14,"msg":"close ok! 关闭成功"}`);
      await c.waitClosed();
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});

Deno.test("tcp: a failed login → 10008, then the connection is closed", async () => {
  const server = await startServer();
  try {
    (await loggedInTcp(server, "frank", "right")).close();
    const c = await RawConn.open(server.port);
    try {
      await c.write(tcpFrame(5, `{"password":"wrong","userId":"frank"}`));
      const reply = await c.take(parseTcpFrame);
      assert.equal(str(reply.body), `{"code":10008,"command":6,"msg":"login failed ! 登录失败!"}`);
      const rest = await c.waitClosed();
      assert.equal(rest.length, 0);
    } finally {
      await c.close();
    }
  } finally {
    await server.stop();
  }
});
