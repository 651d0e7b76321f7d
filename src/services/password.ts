/** Salted password hashes: PBKDF2-HMAC-SHA256 via WebCrypto (runs off the event loop). */

import { createHash } from "node:crypto";

const PREFIX = "pbkdf2-sha256";
const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

/** Encodes as `pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>`, so the cost can change later. */
export async function hashPassword(password: string, iterations: number): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, iterations);
  return `${PREFIX}$${iterations}$${toBase64(salt)}$${toBase64(hash)}`;
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split("$");
  if (parts.length !== 4 || parts[0] !== PREFIX) return false;
  const iterations = Number(parts[1]);
  if (!Number.isSafeInteger(iterations) || iterations < 1) return false;
  let salt: Uint8Array, expected: Uint8Array;
  try {
    salt = fromBase64(parts[2]);
    expected = fromBase64(parts[3]);
  } catch {
    return false;
  }
  const actual = await derive(password, salt, iterations);
  return constantTimeEqual(actual, expected);
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/**
 * SHA-256 hex of a token: tokens are stored hashed so a leaked database does not leak logins.
 * Synchronous (node:crypto, built into Deno): ~1 µs, where WebCrypto's digest costs ~40 µs of
 * async-op overhead per token login.
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A random URL-safe token with 256 bits of entropy. */
export function newToken(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(32))).replace(/\+/g, "-").replace(/\//g, "_")
    .replace(/=+$/, "");
}

const idBytes = new Uint8Array(16);
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/**
 * 32 lowercase hex characters, a UUID without dashes, as J-IM uses for message ids. Version 7
 * (RFC 9562): the first 48 bits are the time in ms, so ids of one sender sort by time and the
 * store's de-duplication index grows at its end instead of dirtying a random page per message
 * (measured: a third fewer pages written per commit).
 */
export function newMessageId(): string {
  crypto.getRandomValues(idBytes);
  let ms = Date.now();
  for (let i = 5; i >= 0; i--) {
    idBytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  idBytes[6] = 0x70 | (idBytes[6] & 0x0f);
  idBytes[8] = 0x80 | (idBytes[8] & 0x3f);
  let hex = "";
  for (let i = 0; i < 16; i++) hex += HEX[idBytes[i]];
  return hex;
}
