/**
 * A small J-IM client over TCP frames or WebSocket, on raw sockets. Used by the tests, the
 * benchmarks and the CLI; it speaks the protocol exactly as any J-IM client would.
 */
import { CMD } from "../protocol/commands.ts";
import { encodeTcpFrame, TcpFrameDecoder } from "../protocol/frame.ts";
import { encodeJson, type JsonObject, parseJsonObject } from "../protocol/json.ts";
import { encodeWsClose, encodeWsFrame, encodeWsText, OPCODE, WsFrameDecoder } from "../protocol/ws_frame.ts";
import { buildWsUpgradeRequest, generateWsKey } from "../protocol/ws_handshake.ts";

export interface ReceivedPacket {
  /** TCP: the frame's cmd byte; WebSocket: the body's `command`. */
  command: number;
  body: JsonObject;
  /** TCP only: the synSeq of the frame (0 when none). */
  synSeq: number;
  raw: Uint8Array;
}

export type PacketFilter = (p: ReceivedPacket) => boolean;

export interface ConnectOptions {
  hostname?: string;
  port: number;
  /** Connect over TLS (a jim with --tls-cert): TLS-wrapped TCP frames, or wss for connectWs. */
  tls?: {
    /** Certificates to trust besides the system's (PEM), e.g. a test CA. */
    caCerts?: string[];
  };
}

const decoder = new TextDecoder();
/** Largest packet the client accepts from a server. */
const MAX_RECEIVED_BYTES = 64 * 1024 * 1024;

export class JimClient {
  readonly protocol: "tcp" | "ws";
  readonly #conn: Deno.Conn;
  readonly #received: ReceivedPacket[] = [];
  #waiters: { filter: PacketFilter; resolve: (p: ReceivedPacket) => void; reject: (e: Error) => void }[] = [];
  #listeners: ((p: ReceivedPacket) => void)[] = [];
  #closeWaiters: (() => void)[] = [];
  #isClosed = false;
  /** WebSocket close frame from the server, if any. */
  closeCode: number | undefined;
  /** The reason text of that close frame. */
  closeReason: string | undefined;
  /** Set when the server sent something the client could not decode. */
  protocolError: Error | undefined;

  private constructor(conn: Deno.Conn, protocol: "tcp" | "ws") {
    this.#conn = conn;
    this.protocol = protocol;
  }

  static async connectTcp(options: ConnectOptions): Promise<JimClient> {
    const conn = await dial(options);
    const client = new JimClient(conn, "tcp");
    client.#readTcp(new Uint8Array(0));
    return client;
  }

  /** Opens a WebSocket; `path` may carry J-IM's login query (`/?username=u&password=p`). */
  static async connectWs(
    options: ConnectOptions & { path?: string; headers?: Record<string, string> },
  ): Promise<JimClient> {
    const hostname = options.hostname ?? "127.0.0.1";
    const conn = await dial(options);
    let request = buildWsUpgradeRequest(`${hostname}:${options.port}`, options.path ?? "/", generateWsKey());
    if (options.headers) {
      const extra = Object.entries(options.headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
      request = request.replace(/\r\n\r\n$/, "\r\n" + extra + "\r\n");
    }
    await writeAll(conn, new TextEncoder().encode(request));
    // Read the 101 head; anything after it is already WebSocket frames.
    let head: Uint8Array = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) {
        conn.close();
        throw new Error("connection closed during the WebSocket handshake");
      }
      head = concat(head, buf.subarray(0, n));
      const end = indexOfHeadEnd(head);
      if (end >= 0) {
        const text = decoder.decode(head.subarray(0, end));
        if (!text.startsWith("HTTP/1.1 101")) {
          conn.close();
          throw new Error(`WebSocket upgrade refused: ${text.split("\r\n")[0]}`);
        }
        const client = new JimClient(conn, "ws");
        client.#readWs(head.subarray(end + 4));
        return client;
      }
    }
  }

  /** Sends a command. TCP puts `cmd` in the header; WebSocket adds it to the JSON body. */
  send(cmd: number, body: JsonObject = {}, synSeq = 0): Promise<void> {
    if (this.protocol === "tcp") {
      return this.sendRaw(encodeTcpFrame(cmd, encodeJson({ cmd, ...body }), synSeq));
    }
    return this.sendRaw(encodeWsText(encodeJson({ cmd, ...body }), randomMask()));
  }

  /** WebSocket only: a text message exactly as given. */
  sendText(text: string): Promise<void> {
    return this.sendRaw(encodeWsText(text, randomMask()));
  }

  /** WebSocket only: a control or data frame. */
  sendWsFrame(opcode: number, payload: Uint8Array, fin = true): Promise<void> {
    return this.sendRaw(encodeWsFrame(opcode, payload, { fin, mask: randomMask() }));
  }

  /** WebSocket only: starts the close handshake. */
  sendWsClose(code = 1000): Promise<void> {
    return this.sendRaw(encodeWsClose(code, "", randomMask()));
  }

  async sendRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.#conn, bytes);
  }

  /** Waits for the next packet that matches (packets that do not match stay queued). */
  next(filter: PacketFilter | number = () => true, timeoutMs = 5000): Promise<ReceivedPacket> {
    const f: PacketFilter = typeof filter === "number" ? (p) => p.command === filter : filter;
    const i = this.#received.findIndex(f);
    if (i >= 0) return Promise.resolve(this.#received.splice(i, 1)[0]);
    if (this.#isClosed) {
      return Promise.reject(new Error(`connection closed; queued: ${this.describeQueue()}`));
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        filter: f,
        resolve: (p: ReceivedPacket) => {
          clearTimeout(timer);
          resolve(p);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching packet within ${timeoutMs} ms; queued: ${this.describeQueue()}`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Packets received and not yet taken by next(). */
  get pending(): readonly ReceivedPacket[] {
    return this.#received;
  }

  describeQueue(): string {
    return JSON.stringify(this.#received.map((p) => p.body));
  }

  /** Logs in and waits for the cmd 6 reply. */
  async login(userId: string, password: string): Promise<ReceivedPacket> {
    await this.send(CMD.LOGIN_REQ, { password, userId });
    return await this.next(CMD.LOGIN_RESP);
  }

  get closed(): boolean {
    return this.#isClosed;
  }

  /** Resolves when the server closed the connection (or rejects after the timeout). */
  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.#isClosed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("connection still open")), timeoutMs);
      this.#closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }

  /** Calls `fn` for every packet received from now on (before next() can take it). */
  onPacket(fn: (p: ReceivedPacket) => void): void {
    this.#listeners.push(fn);
  }

  #deliver(packet: ReceivedPacket): void {
    for (const fn of this.#listeners) fn(packet);
    const i = this.#waiters.findIndex((w) => w.filter(packet));
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      w.resolve(packet);
    } else {
      this.#received.push(packet);
    }
  }

  #markClosed(): void {
    this.#isClosed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(new Error(`connection closed; queued: ${this.describeQueue()}`));
    for (const w of this.#closeWaiters) w();
    this.#closeWaiters = [];
  }

  #readTcp(initial: Uint8Array): Promise<void> {
    const frames = new TcpFrameDecoder(MAX_RECEIVED_BYTES);
    return this.#readLoop(initial, (chunk) => {
      for (const f of frames.push(chunk)) {
        this.#deliver({ command: f.cmd, body: parseJsonObject(f.body), synSeq: f.synSeq, raw: f.body });
      }
    });
  }

  #readWs(initial: Uint8Array): Promise<void> {
    const frames = new WsFrameDecoder({ maxMessageBytes: MAX_RECEIVED_BYTES, requireMask: false });
    return this.#readLoop(initial, (chunk) => {
      for (const e of frames.push(chunk)) {
        if (e.type === "text" || e.type === "binary") {
          const raw = typeof e.data === "string" ? new TextEncoder().encode(e.data) : e.data;
          const body = parseJsonObject(raw);
          this.#deliver({ command: Number(body.command), body, synSeq: 0, raw });
        } else if (e.type === "close") {
          this.closeCode = e.code ?? 1005;
          this.closeReason = e.reason;
        }
      }
    });
  }

  /** Reads until the connection ends; a decoding failure is kept in `protocolError`. */
  async #readLoop(initial: Uint8Array, onChunk: (chunk: Uint8Array) => void): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      let chunk: Uint8Array | null = initial;
      while (chunk) {
        onChunk(chunk);
        const n = await this.#conn.read(buf);
        chunk = n === null ? null : buf.subarray(0, n);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource || err instanceof Deno.errors.ConnectionReset)) {
        this.protocolError = err as Error;
      }
    } finally {
      this.close();
      this.#markClosed();
    }
  }
}

/** A TCP connection, or a TLS one whose handshake succeeded (a certificate error rejects here). */
async function dial(options: ConnectOptions): Promise<Deno.Conn> {
  const hostname = options.hostname ?? "127.0.0.1";
  if (!options.tls) return await Deno.connect({ hostname, port: options.port });
  const conn = await Deno.connectTls({ hostname, port: options.port, caCerts: options.tls.caCerts });
  try {
    await conn.handshake();
  } catch (err) {
    conn.close();
    throw err;
  }
  return conn;
}

function randomMask(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(4));
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOfHeadEnd(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) return i;
  }
  return -1;
}

export { OPCODE };
