/**
 * RFC 6455 opening handshake helpers (pure: no sockets, no I/O).
 *
 * Server side: validateWsUpgrade() on the parsed request headers, then computeWsAccept() and
 * buildWsHandshakeResponse(), which reproduces J-IM's 101 response byte for byte.
 * Client side (test client): generateWsKey() and buildWsUpgradeRequest().
 */

export const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

const encoder = new TextEncoder();

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return btoa(binary);
}

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)). */
export async function computeWsAccept(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + WS_GUID));
  return toBase64(new Uint8Array(digest));
}

/** J-IM's exact 101 response (lower-case header names, this order). */
export function buildWsHandshakeResponse(accept: string): Uint8Array {
  return encoder.encode(
    "HTTP/1.1 101 Switching Protocols\r\n" +
      "content-length: 0\r\n" +
      "upgrade: WebSocket\r\n" +
      "connection: upgrade\r\n" +
      `sec-websocket-accept: ${accept}\r\n` +
      "\r\n",
  );
}

/**
 * Checks a WebSocket upgrade request's headers (names lower case, values as received).
 * Returns an error text, or undefined when the request may be upgraded. Only what the
 * handshake needs is required (like J-IM, the Upgrade / Connection headers are not checked):
 * a Sec-WebSocket-Key that base64-decodes to 16 bytes, and Sec-WebSocket-Version 13 when present.
 */
export function validateWsUpgrade(headers: Map<string, string>): string | undefined {
  const key = headers.get("sec-websocket-key")?.trim();
  if (!key) return "missing Sec-WebSocket-Key header";
  let decoded: string;
  try {
    decoded = atob(key);
  } catch {
    return "Sec-WebSocket-Key is not base64";
  }
  if (decoded.length !== 16) return "Sec-WebSocket-Key does not decode to 16 bytes";
  const version = headers.get("sec-websocket-version");
  if (version !== undefined && version.trim() !== "13") {
    return `unsupported Sec-WebSocket-Version ${JSON.stringify(version)} (only 13 is supported)`;
  }
  return undefined;
}

/** A random Sec-WebSocket-Key (16 random bytes, base64). */
export function generateWsKey(): string {
  return toBase64(crypto.getRandomValues(new Uint8Array(16)));
}

/** A client upgrade request (ends with the blank line). */
export function buildWsUpgradeRequest(host: string, path: string, key: string): string {
  return `GET ${path} HTTP/1.1\r\n` +
    `Host: ${host}\r\n` +
    "Upgrade: websocket\r\n" +
    "Connection: Upgrade\r\n" +
    `Sec-WebSocket-Key: ${key}\r\n` +
    "Sec-WebSocket-Version: 13\r\n" +
    "\r\n";
}
