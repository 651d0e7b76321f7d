import assert from "node:assert/strict";
import { loggedInTcp, loggedInWs, startServer, text } from "./_server.ts";

Deno.test("smoke: TCP and WebSocket users chat privately", async () => {
  const server = await startServer();
  try {
    const a = await loggedInTcp(server, "alice");
    const b = await loggedInWs(server, "bob");
    await a.send(11, { chatType: 2, to: "bob", content: "hi bob", msgType: 0 });
    const ack = await a.next(12);
    assert.equal(text(ack.raw), `{"code":10000,"command":12,"msg":"ok 发送成功"}`);
    const got = await b.next(11);
    assert.equal((got.body.data as Record<string, unknown>).content, "hi bob");
    assert.equal((got.body.data as Record<string, unknown>).from, "alice");
  } finally {
    await server.stop();
  }
});
