/**
 * Chat: store first (ack after commit), then deliver to every live session of the receivers,
 * whatever their protocol. Offline receivers get the message queued for cmd 19.
 */
import type { Logger } from "../log.ts";
import { chatBodyOf, type ChatRequest } from "../protocol/chat_body.ts";
import { CMD } from "../protocol/commands.ts";
import { dataPacket } from "../protocol/packet.ts";
import { STATUS } from "../protocol/status.ts";
import type { Conversation, OfflineFilter, Store, StoredMessage, TimeRangeQuery } from "../store/store.ts";
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

export class MessageService {
  readonly #store: Store;
  readonly #registry: SessionRegistry;
  readonly #groups: GroupService;
  readonly #delivery: Delivery;
  readonly #log: Logger;

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
   * Sends a chat from `from`. `sender` is the sending session (none for the HTTP API); group
   * senders must be members unless `asSystem`. Resolves after the message is durable and
   * handed to the receivers' outboxes.
   */
  async send(from: string, req: ChatRequest, options: { sender?: Session; asSystem?: boolean } = {}): Promise<
    SendResult
  > {
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
      if (!isValidId(to) || !await this.#store.getUser(to)) throw new ReplyError(STATUS.USER_NOT_FOUND);
      const online = this.#registry.isOnline(to);
      const message = await this.#store.appendMessage({ ...base, chatType: 2, to }, online ? [] : [to]);
      this.#delivery.toUser(to, dataPacket(CMD.CHAT_REQ, chatBodyOf(message)));
      return { message, online };
    }
    const groupId = req.groupId!;
    if (!options.asSystem && !await this.#groups.isMember(groupId, from)) {
      throw new ReplyError(STATUS.FORBIDDEN, { detail: `not a member of group ${groupId}` });
    }
    const members = await this.#groups.members(groupId);
    const offline: string[] = [];
    for (const userId of members) {
      if (userId !== from && !this.#registry.isOnline(userId)) offline.push(userId);
    }
    const message = await this.#store.appendMessage({ ...base, chatType: 1, groupId }, offline);
    // J-IM delivers group chats to every bound session, the sender's included (clients filter by from).
    this.#delivery.toGroup(groupId, dataPacket(CMD.CHAT_REQ, chatBodyOf(message)));
    if (this.#log.enabled("debug")) this.#log.debug("chat.group", { groupId, from, id: message.id });
    return { message, online: true };
  }

  async history(conversation: Conversation, query: TimeRangeQuery): Promise<StoredMessage[]> {
    return await this.#store.history(conversation, query);
  }

  async takeOffline(userId: string, filter: OfflineFilter, limit: number): Promise<StoredMessage[]> {
    return await this.#store.takeOffline(userId, filter, limit);
  }
}
