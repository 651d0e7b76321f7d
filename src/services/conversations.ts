/**
 * jim's delivery-contract reads and receipts: sync by seq, the conversation list with unread
 * counts, read positions with notifies, group read counts, search, typing. A user only ever
 * reaches conversations they are part of.
 */
import type { Logger } from "../log.ts";
import { chatBodyOf } from "../protocol/chat_body.ts";
import { CMD } from "../protocol/commands.ts";
import type { ConversationRef } from "../protocol/conversation_ref.ts";
import { dataPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import type { JsonObject } from "../protocol/json.ts";
import type { Conversation, Store, StoredMessage } from "../store/store.ts";
import type { Delivery } from "./delivery.ts";
import { ReplyError } from "./errors.ts";
import type { GroupService } from "./groups.ts";
import type { Session } from "./session.ts";

/** Largest page of sync, conversation list and search replies. */
export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;

export interface SyncPage {
  lastSeq: number;
  messages: StoredMessage[];
  /** More messages exist in the direction of the query. */
  hasMore: boolean;
}

export class ConversationService {
  readonly #store: Store;
  readonly #groups: GroupService;
  readonly #delivery: Delivery;
  readonly #log: Logger;

  constructor(store: Store, groups: GroupService, delivery: Delivery, log: Logger) {
    this.#store = store;
    this.#groups = groups;
    this.#delivery = delivery;
    this.#log = log;
  }

  /** The store's name for a conversation the user may read; group refs need membership. */
  async resolve(userId: string, ref: ConversationRef): Promise<Conversation> {
    if (ref.chatType === 2) return { kind: "private", userA: userId, userB: ref.peer };
    if (!await this.#groups.isMember(ref.groupId, userId)) {
      throw new ReplyError(STATUS.FORBIDDEN, { detail: `not a member of group ${ref.groupId}` });
    }
    return { kind: "group", groupId: ref.groupId };
  }

  /** Messages after `afterSeq` (default 0) or just before `beforeSeq`, ascending. */
  async sync(
    userId: string,
    ref: ConversationRef,
    query: { afterSeq?: number; beforeSeq?: number; limit: number },
  ): Promise<SyncPage> {
    const conversation = await this.resolve(userId, ref);
    const limit = Math.min(Math.max(1, query.limit), MAX_PAGE);
    const lastSeq = await this.#store.lastSeq(conversation);
    const messages = await this.#store.messagesBySeq(conversation, {
      afterSeq: query.beforeSeq === undefined ? (query.afterSeq ?? 0) : undefined,
      beforeSeq: query.beforeSeq,
      limit: limit + 1,
    });
    let hasMore = messages.length > limit;
    if (hasMore) {
      // Going back, the extra one is the oldest; going forward, the newest.
      if (query.beforeSeq !== undefined) messages.shift();
      else messages.pop();
    }
    if (query.beforeSeq === undefined && !hasMore && messages.length > 0) {
      hasMore = messages[messages.length - 1].seq < lastSeq;
    }
    return { lastSeq, messages, hasMore };
  }

  async list(userId: string, limit: number): Promise<JsonObject[]> {
    const rows = await this.#store.listConversations(userId, Math.min(Math.max(1, limit), MAX_PAGE));
    return rows.map((row) => {
      const c = row.conversation;
      const ref = c.kind === "group"
        ? { chatType: 1, groupId: c.groupId }
        : { chatType: 2, peer: c.userA === userId ? c.userB : c.userA };
      return {
        ...ref,
        lastMessage: row.lastMessage ? chatBodyOf(row.lastMessage, true) : undefined,
        lastSeq: row.lastSeq,
        readSeq: row.readSeq,
        unread: Math.max(0, row.lastSeq - row.readSeq),
      };
    });
  }

  /**
   * Records that the user read up to `seq`, then tells the other side (private: the peer;
   * group: the group's sessions) and the user's other sessions with a cmd 29.
   */
  async markRead(userId: string, ref: ConversationRef, seq: number, caller: Session): Promise<number> {
    const conversation = await this.resolve(userId, ref);
    const readSeq = await this.#store.markRead(userId, conversation, seq);
    const notify = dataPacket(CMD.READ_NOTIFY, {
      ...(ref.chatType === 1 ? { chatType: 1, groupId: ref.groupId } : { chatType: 2, to: ref.peer }),
      from: userId,
      readSeq,
    });
    if (ref.chatType === 1) {
      this.#delivery.toGroup(ref.groupId, notify, caller);
    } else {
      this.#delivery.toUser(ref.peer, notify);
      if (ref.peer !== userId) this.#delivery.toUser(userId, notify, caller);
    }
    return readSeq;
  }

  /** For each seq, how many users other than its sender have read it. */
  async readCounts(
    userId: string,
    ref: ConversationRef,
    seqs: readonly number[],
  ): Promise<Record<string, number>> {
    const conversation = await this.resolve(userId, ref);
    const counts = await this.#store.readCounts(conversation, seqs.slice(0, MAX_PAGE));
    const out: Record<string, number> = {};
    for (const [seq, n] of counts) out[String(seq)] = n;
    return out;
  }

  async search(
    userId: string,
    text: string,
    ref: ConversationRef | undefined,
    offset: number,
    limit: number,
  ): Promise<StoredMessage[]> {
    const conversation = ref ? await this.resolve(userId, ref) : undefined;
    return await this.#store.search(userId, {
      text,
      conversation,
      offset: Math.max(0, offset),
      limit: Math.min(Math.max(1, limit), MAX_PAGE),
    });
  }

  /** Forwards a typing indicator to the other side; nothing is stored. */
  async typing(userId: string, ref: ConversationRef, typing: boolean, caller: Session): Promise<void> {
    await this.resolve(userId, ref);
    const notify = dataPacket(CMD.TYPING_NOTIFY, {
      ...(ref.chatType === 1 ? { chatType: 1, groupId: ref.groupId } : { chatType: 2, to: ref.peer }),
      from: userId,
      typing,
    });
    if (ref.chatType === 1) this.#delivery.toGroup(ref.groupId, notify, caller);
    else this.#delivery.toUser(ref.peer, notify);
    if (this.#log.enabled("debug")) this.#log.debug("typing", { userId, typing });
  }
}
