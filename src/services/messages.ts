/**
 * Chat: store first (ack after commit), then deliver to every live session of the receivers,
 * whatever their protocol. Offline receivers get the message queued for cmd 19.
 */
import type { Logger } from "../log.ts";
import { chatBodyOf, type ChatRequest } from "../protocol/chat_body.ts";
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

export interface SendResult {
  message: StoredMessage;
  /** Private chats: whether the receiver had a live session. Group chats: always true. */
  online: boolean;
}

/** A validated chat, ready to be committed. */
export interface PreparedMessage {
  message: NewMessage;
  /** Group chats: the members when the message was prepared. */
  members?: ReadonlySet<string>;
}

/** Most user ids remembered as existing (cleared when full; only a cache). */
const KNOWN_USERS_CACHE = 100_000;

export class MessageService {
  readonly #store: Store;
  readonly #registry: SessionRegistry;
  readonly #groups: GroupService;
  readonly #delivery: Delivery;
  readonly #log: Logger;
  readonly #knownUsers = new Set<string>();

  constructor(
    store: Store,
    registry: SessionRegistry,
    groups: GroupService,
    delivery: Delivery,
    log: Logger,
  ) {
    this.#store = store;
    this.#registry = registry;
    this.#groups = groups;
    this.#delivery = delivery;
    this.#log = log;
  }

  /**
   * Sends a chat from `from`: prepare() then commit(). `sender` is the sending session (none
   * for the HTTP API); group senders must be members unless `asSystem`.
   */
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
      if (!isValidId(to) || !await this.#userExists(to)) throw new ReplyError(STATUS.USER_NOT_FOUND);
      return { message: { ...base, chatType: 2, to } };
    }
    const groupId = req.groupId!;
    if (!options.asSystem && !await this.#groups.isMember(groupId, from)) {
      throw new ReplyError(STATUS.FORBIDDEN, { detail: `not a member of group ${groupId}` });
    }
    return { message: { ...base, chatType: 1, groupId }, members: await this.#groups.members(groupId) };
  }

  /**
   * Stores the message and, once it is durable, delivers it. The store is called before this
   * function first awaits, so messages committed in call order get their seqs in that order.
   */
  async commit(prepared: PreparedMessage): Promise<SendResult> {
    const { message } = prepared;
    if (message.chatType === 2) {
      const to = message.to!;
      const online = this.#registry.isOnline(to);
      const stored = await this.#store.appendMessage(message, online ? [] : [to]);
      this.#delivery.toUser(to, dataPacket(CMD.CHAT_REQ, chatBodyOf(stored)));
      return { message: stored, online };
    }
    const offline: string[] = [];
    for (const userId of prepared.members!) {
      if (userId !== message.from && !this.#registry.isOnline(userId)) offline.push(userId);
    }
    const stored = await this.#store.appendMessage(message, offline);
    // J-IM delivers group chats to every bound session, the sender's included (clients filter by from).
    this.#delivery.toGroup(message.groupId!, dataPacket(CMD.CHAT_REQ, chatBodyOf(stored)));
    if (this.#log.enabled("debug")) {
      this.#log.debug("chat.group", { groupId: message.groupId, id: stored.id });
    }
    return { message: stored, online: true };
  }

  /** Users are never deleted, so a positive answer can be cached (bounded). */
  async #userExists(userId: string): Promise<boolean> {
    if (this.#knownUsers.has(userId)) return true;
    if (!await this.#store.getUser(userId)) return false;
    if (this.#knownUsers.size >= KNOWN_USERS_CACHE) this.#knownUsers.clear();
    this.#knownUsers.add(userId);
    return true;
  }

  async history(conversation: Conversation, query: TimeRangeQuery): Promise<StoredMessage[]> {
    return await this.#store.history(conversation, query);
  }

  async takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]> {
    return await this.#store.takeOffline(userId, filter, limit);
  }
}
