/**
 * A connection's outbox: bounded, and merging everything queued while a write is in flight into
 * a single write. Overflow policy: a client that does not read fast enough to keep the queue
 * under `maxQueuedBytes` is a slow consumer and gets disconnected (`onOverflow`), so server
 * memory stays bounded.
 *
 * The bound counts every byte the process holds for the peer: the queue plus the unwritten rest
 * of the write in flight (the kernel's socket buffer is not counted). One packet is always
 * accepted into an empty outbox, so a single reply larger than the bound (a big history page)
 * still goes out: per connection the outbox holds at most max(maxQueuedBytes, largest packet).
 */
export class ConnWriter {
  readonly #conn: Deno.Conn;
  readonly #maxQueuedBytes: number;
  readonly #onOverflow: (heldBytes: number) => void;
  #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  /** Bytes of the write in flight not yet accepted by the socket. */
  #inFlightBytes = 0;
  #flushing: Promise<void> | null = null;
  #failed = false;
  /** Set by end(): no more writes are accepted. */
  #ended = false;
  lastWriteAt = Date.now();
  /** Bytes the socket accepted so far (for the connection's close log line). */
  bytesWritten = 0;

  constructor(conn: Deno.Conn, maxQueuedBytes: number, onOverflow: (heldBytes: number) => void) {
    this.#conn = conn;
    this.#maxQueuedBytes = maxQueuedBytes;
    this.#onOverflow = onOverflow;
  }

  /** Bytes held for the peer: queued plus the unwritten rest of the write in flight. */
  get queuedBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** False once the writer ended or overflowed: write() would drop the bytes (skip encoding them). */
  get writable(): boolean {
    return !this.#ended && !this.#failed;
  }

  /** Queues bytes; false when the writer is closed or the queue bound was hit. */
  write(bytes: Uint8Array): boolean {
    if (this.#ended || this.#failed) return false;
    const held = this.#queuedBytes + this.#inFlightBytes;
    if (held > 0 && held + bytes.length > this.#maxQueuedBytes) {
      this.#failed = true;
      this.#queue = [];
      this.#queuedBytes = 0;
      this.#onOverflow(held);
      return false;
    }
    this.#queue.push(bytes);
    this.#queuedBytes += bytes.length;
    this.#flushing ??= this.#flush();
    return true;
  }

  /** Stops accepting writes; resolves when everything queued is written (or writing failed). */
  async end(): Promise<void> {
    this.#ended = true;
    if (this.#flushing) await this.#flushing;
  }

  async #flush(): Promise<void> {
    // Start writing once the current burst of microtasks has run: the acks and deliveries one
    // store commit releases for this connection then leave in one write (one syscall), not one
    // write for the first and another for the rest.
    await null;
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        const chunks = this.#queue;
        const total = this.#queuedBytes;
        this.#queue = [];
        this.#queuedBytes = 0;
        let data: Uint8Array;
        if (chunks.length === 1) {
          data = chunks[0];
        } else {
          data = new Uint8Array(total);
          let off = 0;
          for (const c of chunks) {
            data.set(c, off);
            off += c.length;
          }
        }
        let written = 0;
        this.#inFlightBytes = data.length;
        while (written < data.length) {
          written += await this.#conn.write(written === 0 ? data : data.subarray(written));
          this.#inFlightBytes = data.length - written;
        }
        this.bytesWritten += written;
        this.lastWriteAt = Date.now();
      }
    } catch {
      // The peer went away; the read loop sees it too and cleans up.
      this.#failed = true;
      this.#queue = [];
      this.#queuedBytes = 0;
    } finally {
      this.#inFlightBytes = 0;
      this.#flushing = null;
    }
  }
}
