/** Conversation keys and row <-> record mapping for the SQLite store. */
import type { JsonObject } from "../../protocol/json.ts";
import type { Conversation, GroupRecord, NewMessage, StoredMessage, UserRecord } from "../store.ts";

type Row = Record<string, unknown>;

/**
 * Private keys are `p:` + a JSON array of the two ids (smaller first by JS string order), group
 * keys are `g:` + the id. JSON quoting makes the pair unambiguous for any ids, and the prefixes
 * keep the two kinds apart, so no two conversations share a key.
 */
export function privateKey(a: string, b: string): string {
  return "p:" + JSON.stringify(a < b ? [a, b] : [b, a]);
}

export function groupKey(groupId: string): string {
  return "g:" + groupId;
}

export function conversationKey(c: Conversation): string {
  return c.kind === "private" ? privateKey(c.userA, c.userB) : groupKey(c.groupId);
}

/** Column values of a message, ready to bind (undefined turned into NULL). */
export interface MessageParams {
  convKey: string;
  msgId: string;
  chatType: 1 | 2;
  from: string;
  to: string | null;
  groupId: string | null;
  msgType: number | null;
  content: string | null;
  createTime: number;
  extras: string | null;
}

/** Validates a message and encodes it; throws before anything is queued. */
export function toParams(m: NewMessage): MessageParams {
  let convKey: string;
  if (m.chatType === 2) {
    if (typeof m.to !== "string") throw new TypeError("private message needs `to`");
    convKey = privateKey(m.from, m.to);
  } else if (m.chatType === 1) {
    if (typeof m.groupId !== "string") throw new TypeError("group message needs `groupId`");
    convKey = groupKey(m.groupId);
  } else {
    throw new TypeError(`unknown chatType ${String(m.chatType)}`);
  }
  if (!Number.isFinite(m.createTime)) throw new TypeError("createTime must be a finite number");
  return {
    convKey,
    msgId: m.id,
    chatType: m.chatType,
    from: m.from,
    to: m.to ?? null,
    groupId: m.groupId ?? null,
    msgType: m.msgType ?? null,
    content: m.content ?? null,
    createTime: m.createTime,
    // Serialised now so a bad value (cycle, BigInt) fails this call alone, not the batch.
    extras: m.extras === undefined ? null : JSON.stringify(m.extras),
  };
}

/** The message as the store returns it, built from the encoded params (same shape as toMessage). */
export function paramsToMessage(p: MessageParams, seq: number, storedAt: number): StoredMessage {
  return buildMessage(
    p.msgId,
    p.chatType,
    p.from,
    p.to,
    p.groupId,
    p.msgType,
    p.content,
    p.createTime,
    p.extras,
    seq,
    storedAt,
    false,
  );
}

/**
 * Deno's node:sqlite cuts TEXT results at the first NUL character (binding is fine), so text that
 * may hold arbitrary client data is selected as BLOB (the exact UTF-8 bytes) and decoded here.
 */
const decoder = new TextDecoder();

function blobText(column: string): string {
  const name = column.slice(column.indexOf(".") + 1);
  return `CAST(${column} AS BLOB) AS ${name}`;
}

export function selectText(...columns: string[]): string {
  return columns.map(blobText).join(", ");
}

function text(v: unknown): string {
  return v instanceof Uint8Array ? decoder.decode(v) : v as string;
}

function textOrNull(v: unknown): string | null {
  return v === null ? null : text(v);
}

export const USER_COLUMNS = selectText("u.user_id", "u.password_hash", "u.nick", "u.avatar") +
  ", u.created_at, u.disabled";
export const GROUP_COLUMNS = selectText("g.group_id", "g.name", "g.avatar") + ", g.created_at";
export const MESSAGE_COLUMNS =
  "m.row_id, m.seq, m.chat_type, m.msg_type, m.create_time, m.extras, m.stored_at, m.recalled, " +
  selectText("m.msg_id", "m.from_user", "m.to_user", "m.group_id", "m.content");

export function toMessage(r: Row): StoredMessage {
  return buildMessage(
    text(r.msg_id),
    r.chat_type as 1 | 2,
    text(r.from_user),
    textOrNull(r.to_user),
    textOrNull(r.group_id),
    r.msg_type as number | null,
    textOrNull(r.content),
    r.create_time as number,
    r.extras as string | null,
    r.seq as number,
    r.stored_at as number,
    r.recalled === 1,
  );
}

// Builds in the interface's field order and leaves out NULL columns (callers never see nulls).
function buildMessage(
  id: string,
  chatType: 1 | 2,
  from: string,
  to: string | null,
  groupId: string | null,
  msgType: number | null,
  content: string | null,
  createTime: number,
  extras: string | null,
  seq: number,
  storedAt: number,
  recalled: boolean,
): StoredMessage {
  const out = { id, chatType, from } as StoredMessage;
  if (to !== null) out.to = to;
  if (groupId !== null) out.groupId = groupId;
  if (msgType !== null) out.msgType = msgType;
  if (content !== null) out.content = content;
  out.createTime = createTime;
  if (extras !== null) out.extras = JSON.parse(extras) as JsonObject;
  out.seq = seq;
  out.storedAt = storedAt;
  if (recalled) out.recalled = true;
  return out;
}

export function toText(v: unknown): string {
  return text(v);
}

export function toUser(r: Row): UserRecord {
  return {
    userId: text(r.user_id),
    passwordHash: text(r.password_hash),
    nick: text(r.nick),
    avatar: text(r.avatar),
    createdAt: r.created_at as number,
    disabled: r.disabled !== 0,
  };
}

export function toGroup(r: Row): GroupRecord {
  return {
    groupId: text(r.group_id),
    name: text(r.name),
    avatar: text(r.avatar),
    createdAt: r.created_at as number,
  };
}

/** A LIMIT/OFFSET value: non-negative integer; NaN, negatives and infinities become 0. */
export function clampCount(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

/** A seq bound from the caller: a non-negative integer (NaN is `fallback`, +Infinity the maximum). */
export function seqBound(n: number | undefined, fallback: number): number {
  if (n === undefined || Number.isNaN(n)) return fallback;
  return n === Infinity ? Number.MAX_SAFE_INTEGER : Math.max(0, Math.floor(n));
}
