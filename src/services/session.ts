/**
 * A Session is one client connection as the services see it: who it is and how to push to it.
 * Transports implement SessionTransport; services never see bytes or sockets.
 */
import { type OutPacket, type PacketChoice, pick } from "../protocol/packet.ts";

export type Protocol = "tcp" | "ws" | "http";

export interface SessionTransport {
  readonly protocol: Protocol;
  readonly remoteAddr: string;
  /** Queues a packet; `synSeq` > 0 marks a reply to a synchronous TCP request. False if dropped. */
  send(packet: OutPacket, synSeq: number): boolean;
  /**
   * Closes the connection after queued packets are flushed. `code` is the WebSocket close code
   * (ignored by other transports).
   */
  close(reason: string, code?: number): void;
  /** When bytes were last written to the peer (heartbeat timeout). */
  readonly lastWriteAt: number;
}

/** The logged-in identity of a session. */
export interface SessionUser {
  userId: string;
  nick: string;
  avatar: string;
}

/**
 * WebSocket close code sent when an operator kicks a session (4000–4999 are for applications):
 * clients should not reconnect automatically after it.
 */
export const KICKED_CLOSE_CODE = 4001;

/** WebSocket close code and reason of the sessions a stopping server ends (1001, going away). */
export const SHUTDOWN_CLOSE_CODE = 1001;
export const SHUTDOWN_REASON = "server shutting down";

let nextSessionId = 1;
const NO_GROUPS: ReadonlySet<string> = new Set();

export class Session {
  readonly id = nextSessionId++;
  readonly transport: SessionTransport;
  readonly connectedAt = Date.now();
  user: SessionUser | undefined;
  /** Made on the first group (most idle sessions have none: idle memory per connection). */
  #groups: Set<string> | undefined;
  closed = false;
  /** The client asked (at login) for jim's optional fields: seq in acks, deliveries and lists. */
  extensions = false;
  /** When bytes last arrived (heartbeat timeout). */
  lastReadAt = Date.now();

  constructor(transport: SessionTransport) {
    this.transport = transport;
  }

  /** Groups this session is bound to (receives their messages); SessionRegistry changes them. */
  get groups(): ReadonlySet<string> {
    return this.#groups ?? NO_GROUPS;
  }

  /** Binds the group to this session (SessionRegistry.bindGroup keeps its index in step). */
  addGroup(groupId: string): void {
    (this.#groups ??= new Set()).add(groupId);
  }

  /** False when the session was not bound to the group. */
  removeGroup(groupId: string): boolean {
    return this.#groups?.delete(groupId) ?? false;
  }

  get protocol(): Protocol {
    return this.transport.protocol;
  }

  get userId(): string | undefined {
    return this.user?.userId;
  }

  send(packet: OutPacket | PacketChoice): boolean {
    return this.closed ? false : this.transport.send(pick(packet, this.extensions), 0);
  }

  /** Set once the server decided to end the connection; no more requests are handled. */
  closing = false;

  close(reason: string, code?: number): void {
    if (this.closing) return;
    this.closing = true;
    this.transport.close(reason, code);
  }

  /** Closed by an operator (HTTP API / admin): WebSocket clients get KICKED_CLOSE_CODE. */
  kick(reason: string): void {
    this.close(reason, KICKED_CLOSE_CODE);
  }
}
