/**
 * Chat: store first (ack after commit), then deliver to every live session of the receivers,
 * whatever their protocol. Offline receivers get the message queued for cmd 19. A resend of a
 * message id the sender already used is answered from the original (same seq), never stored or
 * delivered twice. Recall marks a message recalled and tells everyone who could see it.
 */
import type { Logger } from "../log.ts";
import { chatBodyOf, chatPackets, type ChatRequest } from "../protocol/chat_body.ts";
import { CMD } from "../protocol/commands.ts";
import { dataPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import type {
  Conversation,
  NewMessage,
  OfflineFilter,
  Store,
  StoredMessage,
  TimeRangeQuery,
} from "../store/store.ts";
import type { Delivery } from "./delivery.ts";
import { ReplyError } from "./errors.ts";
import type { GroupService } from "./groups.ts";
import { isValidId } from "./ids.ts";
import { newMessageId } from "./password.ts";
import type { Session } from "./session.ts";
import type { SessionRegistry } from "./session_registry.ts";
import type { Stats } from "./stats.ts";

export interface SendResult {
  message: StoredMessage;
  /** Private chats: whether the receiver has a live session. Group chats: always true. */
  online: boolean;
  /** The sender had already sent this id: nothing new was stored or delivered. */
  duplicate: boolean;
}

/** A validated chat, ready to be committed. */
export interface PreparedMessage {
  message: NewMessage;
  /** Group chats: the members when the message was prepared. */
  members?: ReadonlySet<string>;
  /** The sending session (not delivered to again); none for the HTTP API. */
  sender?: Session;
  /** performance.now() when handling started: the start of the delivery latency. */
  receivedAt: number;
}

export interface MessageOptions {
  /** Deliver private messages to the sender's other sessions too (`--deliver-own`). */
  deliverOwn: boolean;
  /** Seconds after storing during which the sender may recall; 0 disables recall. */
  recallWindow: number;
}

/** Most user ids remembered as existing (cleared when full; only a cache). */
const KNOWN_USERS_CACHE = 100_000;

export function conversationOf(message: StoredMessage | NewMessage): Conversation {
  return message.chatType === 1
    ? { kind: "group", groupId: message.groupId! }
    : { kind: "private", userA: message.from, userB: message.to! };
}

export class MessageService {
  readonly #store: Store;
  readonly #registry: SessionRegistry;
  readonly #groups: GroupService;
  readonly #delivery: Delivery;
  readonly #log: Logger;
  readonly #options: MessageOptions;
  readonly #stats: Stats;
  readonly #knownUsers = new Set<string>();

  constructor(
    store: Store,
    registry: SessionRegistry,
    groups: GroupService,
    delivery: Delivery,
    log: Logger,
    options: MessageOptions,
    stats: Stats,
  ) {
    this.#store = store;
    this.#registry = registry;
    this.#groups = groups;
    this.#delivery = delivery;
    this.#log = log;
    this.#options = options;
    this.#stats = stats;
  }

  /** prepare() then commit(); group senders must be members unless `asSystem`. */
  async send(from: string, req: ChatRequest, options: { sender?: Session; asSystem?: boolean } = {}): Promise<
    SendResult
  > {
    return await this.commit(await this.prepare(from, req, options));
  }

  /**
   * Validates a chat and works out its receivers (async lookups; refusals throw ReplyError).
   * Nothing is stored yet.
   */
  async prepare(
    from: string,
    req: ChatRequest,
    options: { sender?: Session; asSystem?: boolean } = {},
  ): Promise<PreparedMessage> {
    const receivedAt = performance.now();
    this.#stats.messageReceived();
    const base = {
      id: req.id ?? newMessageId(),
      from,
      msgType: req.msgType,
      content: req.content,
      createTime: req.createTime ?? Date.now(),
      extras: req.extras,
    };
    if (req.chatType === 2) {
      const to = req.to!;
      if (!isValidId(to) || !await this.userExists(to)) throw new ReplyError(STATUS.USER_NOT_FOUND);
      return { message: { ...base, chatType: 2, to }, sender: options.sender, receivedAt };
    }
    const groupId = req.groupId!;
    if (!options.asSystem && !await this.#groups.isMember(groupId, from)) {
      throw new ReplyError(STATUS.FORBIDDEN, { detail: `not a member of group ${groupId}` });
    }
    const mutedUntil = options.asSystem ? 0 : await this.#groups.mutedUntil(groupId, from);
    if (mutedUntil > Date.now()) {
      throw new ReplyError(STATUS.GROUP_MUTED, {
        detail: `muted in group ${groupId}`,
        extra: { data: { groupId, mutedUntil } },
      });
    }
    return {
      message: { ...base, chatType: 1, groupId },
      members: await this.#groups.members(groupId),
      sender: options.sender,
      receivedAt,
    };
  }

  /**
   * Stores the message and, once it is durable, delivers it. The store is called before this
   * function first awaits, so messages committed in call order get their seqs in that order.
   */
  async commit(prepared: PreparedMessage): Promise<SendResult> {
    const { message, sender } = prepared;
    if (message.chatType === 2) {
      const to = message.to!;
      const queued = this.#registry.isOnline(to) ? [] : [to];
      const { message: stored, duplicate } = await this.#store.appendMessage(message, queued);
      if (!duplicate) {
        const packets = chatPackets(stored);
        let delivered = this.#delivery.toUser(to, packets);
        if (this.#options.deliverOwn && to !== message.from) {
          delivered += this.#delivery.toUser(message.from, packets, sender);
        }
        this.#stats.messageStored(delivered, (performance.now() - prepared.receivedAt) / 1000);
      }
      return { message: stored, online: this.#registry.isOnline(to), duplicate };
    }
    const offline: string[] = [];
    for (const userId of prepared.members!) {
      if (userId !== message.from && !this.#registry.isOnline(userId)) offline.push(userId);
    }
    const { message: stored, duplicate } = await this.#store.appendMessage(message, offline);
    // J-IM delivers group chats to every bound session, the sender's included (clients filter by from).
    if (!duplicate) {
      const delivered = this.#delivery.toGroup(message.groupId!, chatPackets(stored));
      this.#stats.messageStored(delivered, (performance.now() - prepared.receivedAt) / 1000);
    }
    if (this.#log.enabled("debug")) {
      this.#log.debug("chat.group", { groupId: message.groupId, id: stored.id });
    }
    return { message: stored, online: true, duplicate };
  }

  /**
   * Recalls the user's own message `id` within the recall window, and sends the cmd 16 notify
   * to every session that could see it (the caller's own excepted). Throws ReplyError.
   */
  async recall(userId: string, id: string, caller?: Session): Promise<StoredMessage> {
    const found = await this.#store.findSentMessage(userId, id);
    // Another user's message is "not found" too: nobody learns which ids exist.
    if (!found) throw new ReplyError(STATUS.MESSAGE_NOT_FOUND);
    if (found.recalled) return found;
    const windowMs = this.#options.recallWindow * 1000;
    if (windowMs <= 0 || Date.now() - found.storedAt > windowMs) throw new ReplyError(STATUS.RECALL_EXPIRED);
    const recalled = await this.#store.recallMessage(conversationOf(found), found.seq);
    if (!recalled) throw new ReplyError(STATUS.MESSAGE_NOT_FOUND);
    const notify = dataPacket(CMD.CANCEL_MSG_RESP, recallNotice(recalled));
    if (recalled.chatType === 1) {
      this.#delivery.toGroup(recalled.groupId!, notify, caller);
    } else {
      this.#delivery.toUser(recalled.to!, notify);
      this.#delivery.toUser(recalled.from, notify, caller);
    }
    this.#log.info("message.recalled", { userId, id, seq: recalled.seq });
    return recalled;
  }

  async history(conversation: Conversation, query: TimeRangeQuery): Promise<StoredMessage[]> {
    return await this.#store.history(conversation, query);
  }

  async takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]> {
    return await this.#store.takeOffline(userId, filter, limit);
  }

  /** Users are never deleted, so a positive answer can be cached (bounded). */
  async userExists(userId: string): Promise<boolean> {
    if (this.#knownUsers.has(userId)) return true;
    if (!await this.#store.getUser(userId)) return false;
    if (this.#knownUsers.size >= KNOWN_USERS_CACHE) this.#knownUsers.clear();
    this.#knownUsers.add(userId);
    return true;
  }
}

/** What a recall notify (and reply) says about the message. */
export function recallNotice(message: StoredMessage): Record<string, unknown> {
  const body = chatBodyOf(message, true);
  return {
    chatType: body.chatType,
    from: body.from,
    groupId: body.groupId,
    id: body.id,
    recalled: true,
    seq: body.seq,
    to: body.to,
  };
}
