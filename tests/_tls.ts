/**
 * Test certificates made at test time with WebCrypto (ECDSA P-256) and a small DER encoder: a CA
 * and server certificates it signs for 127.0.0.1 and localhost. No openssl, no fixtures on disk.
 */

export interface TestCa {
  /** The CA certificate, PEM: what a client trusts (`caCerts`). */
  certPem: string;
  name: string;
  keys: CryptoKeyPair;
}

export interface TestCert {
  /** The server certificate, PEM (`--tls-cert`). */
  certPem: string;
  /** Its private key, PKCS#8 PEM (`--tls-key`). */
  keyPem: string;
  serial: Uint8Array;
}

const EC = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;

/** A self-signed CA certificate named `name`. */
export async function makeCa(name: string): Promise<TestCa> {
  const keys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]) as CryptoKeyPair;
  const extensions = [
    extension(OID.basicConstraints, true, seq(bool(true))),
    extension(OID.keyUsage, true, bitString(new Uint8Array([0x06]), 1)), // keyCertSign, cRLSign
  ];
  const certPem = await certificate(name, name, keys.publicKey, keys.privateKey, extensions);
  return { certPem, name, keys };
}

/** A server certificate for 127.0.0.1 and localhost, signed by `ca`. */
export async function makeServerCert(ca: TestCa, commonName = "localhost"): Promise<TestCert> {
  const keys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]) as CryptoKeyPair;
  const san = seq(
    tlv(0x82, new TextEncoder().encode("localhost")), // dNSName
    tlv(0x87, new Uint8Array([127, 0, 0, 1])), // iPAddress
  );
  const extensions = [
    extension(OID.basicConstraints, true, seq()),
    extension(OID.keyUsage, true, bitString(new Uint8Array([0x80]), 7)), // digitalSignature
    extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
    extension(OID.subjectAltName, false, san),
  ];
  const serial = randomSerial();
  const certPem = await certificate(
    commonName,
    ca.name,
    keys.publicKey,
    ca.keys.privateKey,
    extensions,
    serial,
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { certPem, keyPem: pem("PRIVATE KEY", pkcs8), serial };
}

// ---- X.509 --------------------------------------------------------------------------------------

const OID = {
  ecPublicKey: "1.2.840.10045.2.1",
  prime256v1: "1.2.840.10045.3.1.7",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  commonName: "2.5.4.3",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

async function certificate(
  subject: string,
  issuer: string,
  publicKey: CryptoKey,
  signingKey: CryptoKey,
  extensions: Uint8Array[],
  serial = randomSerial(),
): Promise<string> {
  const now = Date.now();
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", publicKey));
  const tbs = seq(
    tlv(0xa0, integer(new Uint8Array([2]))), // version v3
    integer(serial),
    algorithm,
    name(issuer),
    seq(utcTime(new Date(now - 3600_000)), utcTime(new Date(now + 7 * 86400_000))),
    name(subject),
    spki,
    tlv(0xa3, seq(...extensions)),
  );
  const raw = new Uint8Array(await crypto.subtle.sign(SIGN, signingKey, tbs));
  return pem("CERTIFICATE", seq(tbs, algorithm, bitString(ecdsaSignatureDer(raw))));
}

function name(commonName: string): Uint8Array {
  return seq(set(seq(oid(OID.commonName), tlv(0x0c, new TextEncoder().encode(commonName)))));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), tlv(0x04, value)) : seq(oid(id), tlv(0x04, value));
}

/** WebCrypto signs ECDSA as r ‖ s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function ecdsaSignatureDer(raw: Uint8Array): Uint8Array {
  const half = raw.length / 2;
  return seq(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

function randomSerial(): Uint8Array {
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f; // positive
  serial[0] |= 0x01; // no leading zero byte
  return serial;
}

// ---- DER ----------------------------------------------------------------------------------------

function tlv(tag: number, value: Uint8Array): Uint8Array<ArrayBuffer> {
  const len = value.length;
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  out.set(value, head.length);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const seq = (...items: Uint8Array[]) => tlv(0x30, concat(items));
const set = (...items: Uint8Array[]) => tlv(0x31, concat(items));
const bool = (value: boolean) => tlv(0x01, new Uint8Array([value ? 0xff : 0]));

/** An unsigned big-endian integer (minimal, with a 0 byte when the top bit is set). */
function integer(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, trimmed[0] & 0x80 ? concat([new Uint8Array([0]), trimmed]) : trimmed);
}

function bitString(bytes: Uint8Array, unusedBits = 0): Uint8Array {
  return tlv(0x03, concat([new Uint8Array([unusedBits]), bytes]));
}

function oid(dotted: string): Uint8Array {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const groups = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, new Uint8Array(out));
}

function utcTime(date: Date): Uint8Array {
  const iso = date.toISOString(); // 2025-06-01T12:34:56.789Z
  const text = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) +
    iso.slice(17, 19) + "Z";
  return tlv(0x17, new TextEncoder().encode(text));
}

function pem(label: string, der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN ${label}-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;
}
