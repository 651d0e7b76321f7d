/**
 * cmd 5 → 6: login with userId + password (registering on first login when open) or a token.
 * The cmd 9 notifies for the user's groups go out before the cmd 6 reply (spec §5.3); a failed
 * login is answered with 10008 and the connection is closed, as in J-IM.
 */
import { CMD } from "../../protocol/commands.ts";
import { readString } from "../../protocol/json.ts";
import { statusPacket } from "../../protocol/packet.ts";
import { STATUS } from "../../protocol/status.ts";
import { chatPackets } from "../../protocol/chat_body.ts";
import type { Credentials } from "../../services/auth/auth.ts";
import type { RequestContext } from "../context.ts";

export const LOGIN_OK_PACKET = statusPacket(CMD.LOGIN_RESP, STATUS.LOGIN_OK);
export const LOGIN_FAILED_PACKET = statusPacket(CMD.LOGIN_RESP, STATUS.LOGIN_FAILED);

export async function handleLogin(ctx: RequestContext): Promise<void> {
  const credentials: Credentials = {
    userId: readString(ctx.body, "userId"),
    password: readString(ctx.body, "password"),
    token: readString(ctx.body, "token"),
  };
  const result = await ctx.services.sessions.login(ctx.session, credentials);
  if (!result.ok) {
    // Too many sessions: its own status. A lockout looks like any failure (10008) to J-IM
    // clients; a client asking for extensions learns when to retry.
    let packet = LOGIN_FAILED_PACKET;
    if (result.status) packet = statusPacket(CMD.LOGIN_RESP, result.status);
    else if (result.retryAfter && isTrue(ctx.body.extensions)) {
      packet = statusPacket(CMD.LOGIN_RESP, STATUS.LOGIN_FAILED, { data: { retryAfter: result.retryAfter } });
    }
    return ctx.replyAndClose(packet, "login failed");
  }
  ctx.session.extensions = isTrue(ctx.body.extensions);
  for (const notify of result.notifies) ctx.session.send(notify);
  ctx.reply(LOGIN_OK_PACKET);
  if (ctx.services.options.pushOffline) await pushOffline(ctx);
}

/** `true`, `1`, `"1"`, `"true"`: how clients (and query strings) say yes. */
function isTrue(value: unknown): boolean {
  return value === true || value === 1 || value === "1" || value === "true";
}

/**
 * `--push-offline`: after the login reply, the queued offline messages arrive as ordinary cmd 11
 * deliveries (oldest first) and leave the queue; history and sync keep them.
 */
async function pushOffline(ctx: RequestContext): Promise<void> {
  const { messages, options } = ctx.services;
  const userId = ctx.session.userId!;
  for (let batch = 0; batch < MAX_PUSH_BATCHES && !ctx.session.closing; batch++) {
    const queued = await messages.takeOffline(userId, {}, options.maxOfflineBatch);
    for (const message of queued) ctx.session.send(chatPackets(message));
    if (queued.length < options.maxOfflineBatch) break;
  }
}

/** Bounds the push at login; what is left stays queued for cmd 19 or the next login. */
const MAX_PUSH_BATCHES = 10;
