/**
 * Shared helpers for the end-to-end command tests (tests/e2e_*_test.ts): exact J-IM bodies,
 * a server-per-test wrapper and deterministic "nothing else arrived" checks.
 */
import assert from "node:assert/strict";
import type { JimClient, ReceivedPacket } from "../src/client/jim_client.ts";
import type { JimConfig } from "../src/config/schema.ts";
import { startServer, type TestServer, text } from "./_server.ts";

/** Exact reply bodies from spec §3.2 / §5 and jim's own statuses. */
export const BODY = {
  handshake: `{"command":2,"data":{"hbyte":-127}}`,
  heartbeat: `{"command":13,"data":{"hbbyte":-128}}`,
  loginOk: `{"code":10007,"command":6,"msg":"ok 登录成功!"}`,
  loginFailed: `{"code":10008,"command":6,"msg":"login failed ! 登录失败!"}`,
  sent: `{"code":10000,"command":12,"msg":"ok 发送成功"}`,
  offline: `{"code":10001,"command":12,"msg":"offline 用户不在线"}`,
  sendFailed:
    `{"code":10002,"command":12,"msg":"send failed 消息发送失败,数据格式不正确,请参考:{'from':来源ID,'to':目标ID,'cmd':'消息命令码','createTime':消息创建时间(Long型),'msgType':Integer消息类型,'content':内容}"}`,
  userNotFound: `{"code":10025,"command":12,"msg":"user not found 用户不存在"}`,
  chatForbidden: `{"code":10024,"command":12,"msg":"forbidden 没有权限"}`,
  chatBadRequest: `{"code":10023,"command":12,"msg":"bad request 请求格式不正确"}`,
  joinFailed: `{"code":10012,"command":8,"msg":"join group failed! 加入群组失败!","result":0}`,
  unknownCmd: `{"code":10017,"command":0,"msg":"cmd failed! 未知的cmd命令!"}`,
  closeOk: `{"code":10021,"command":14,"msg":"close ok! 关闭成功"}`,
  closeInvalid: `{"code":10020,"command":14,"msg":"Invalid verification! 不合法校验"}`,
  closeForbidden: `{"code":10024,"command":14,"msg":"forbidden 没有权限"}`,
  getUserFailed: `{"code":10004,"command":18,"msg":"get user failed ! 获取用户信息失败!"}`,
  getMessageFailed: `{"code":10015,"command":20,"msg":"get user message failed! 获取用户消息失败!"}`,
  getMessageForbidden: `{"code":10024,"command":20,"msg":"forbidden 没有权限"}`,
  notLoggedIn: (replyCmd: number) => `{"code":10022,"command":${replyCmd},"msg":"not logged in 请先登录"}`,
  joinNotify: (group: string, userId: string, nick = userId) =>
    `{"code":10011,"command":9,"group":"${group}","msg":"join group ok! 加入群组成功!","user":{"nick":"${nick}","status":"online","userId":"${userId}"}}`,
  exitNotify: (group: string, userId: string, nick = userId) =>
    `{"command":10,"data":{"group":"${group}","user":{"nick":"${nick}","status":"offline","userId":"${userId}"}}}`,
} as const;

export const MSG = {
  getUser: {
    0: "ok 获取所有在线用户信息成功!",
    1: "ok 获取所有离线用户信息成功!",
    2: "ok 获取用户信息成功!",
  },
  offlineOk: "get user message ok! 获取离线消息成功!",
  historyOk: "get user message ok! 获取历史消息成功!",
} as const;

/** Starts a server, runs the test body, always stops the server. */
export async function withServer(
  fn: (server: TestServer) => Promise<void>,
  overrides: Partial<JimConfig> = {},
): Promise<void> {
  const server = await startServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** The exact body bytes of a packet, as text. */
export const bodyOf = (p: ReceivedPacket) => text(p.raw);

/** The next packet of `cmd`; asserts its exact body. */
export async function expectBody(c: JimClient, cmd: number, expected: string): Promise<ReceivedPacket> {
  const p = await c.next(cmd);
  assert.equal(bodyOf(p), expected);
  return p;
}

/** The very next packet, whatever its command (to assert arrival order). */
export async function expectNext(c: JimClient, cmd: number, expected?: string): Promise<ReceivedPacket> {
  const p = await c.next(() => true);
  assert.equal(p.command, cmd, `expected cmd ${cmd} next, got ${bodyOf(p)}`);
  if (expected !== undefined) assert.equal(bodyOf(p), expected);
  return p;
}

/**
 * Asserts that nothing is queued or on its way for this connection: a heartbeat sent now must be
 * answered before anything else arrives (the server writes each connection's packets in order).
 */
export async function assertQuiet(c: JimClient): Promise<void> {
  await c.send(13, {});
  const p = await c.next(() => true);
  assert.equal(p.command, 13, `expected only the heartbeat reply, got ${bodyOf(p)}`);
  assert.equal(bodyOf(p), BODY.heartbeat);
}

/** Polls in-process server state until `cond` holds (a synchronisation point, not an assertion). */
export async function waitUntil(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Waits until the server has no live session of the user (after its clients closed). */
export async function waitOffline(server: TestServer, userId: string): Promise<void> {
  await waitUntil(() => !server.app.services.registry.isOnline(userId), `${userId} is offline`);
}

/** Logs in over TCP with `password`, then disconnects: the account exists and is offline. */
export async function registerOffline(server: TestServer, userId: string, password = "pw"): Promise<void> {
  const c = await server.tcp();
  const reply = await c.login(userId, password);
  assert.equal(bodyOf(reply), BODY.loginOk);
  c.close();
  await waitOffline(server, userId);
}

/** Takes the cmd 9 join notifies a login produced (one per group, in order). */
export async function takeJoinNotifies(
  c: JimClient,
  group: string,
  userId: string,
  count = 1,
): Promise<void> {
  for (let i = 0; i < count; i++) await expectBody(c, 9, BODY.joinNotify(group, userId));
}

/** A cmd 11 delivery body exactly as J-IM renders it (keys sorted, absent fields omitted). */
export function chatDelivery(m: Record<string, unknown>): string {
  return `{"command":11,"data":${chatBody(m)}}`;
}

/** A ChatBody as delivered and listed in cmd 20: sorted keys, `cmd` 11. */
export function chatBody(m: Record<string, unknown>): string {
  const full: Record<string, unknown> = { ...m, cmd: 11 };
  const keys = Object.keys(full).filter((k) => full[k] !== undefined).sort();
  return "{" + keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(full[k])}`).join(",") + "}";
}

/** Opens a plain TCP socket, writes `bytes` and reads until at least `n` bytes came back. */
export async function rawTcpExchange(port: number, bytes: Uint8Array, n: number): Promise<Uint8Array> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    const out = new Uint8Array(n);
    let got = 0;
    const buf = new Uint8Array(4096);
    const timer = setTimeout(() => conn.close(), 5000);
    try {
      while (got < n) {
        const r = await conn.read(buf);
        if (r === null) throw new Error(`connection closed after ${got} of ${n} bytes`);
        out.set(buf.subarray(0, Math.min(r, n - got)), got);
        got += r;
      }
    } finally {
      clearTimeout(timer);
    }
    return out;
  } finally {
    try {
      conn.close();
    } catch {
      // already closed
    }
  }
}

export const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
