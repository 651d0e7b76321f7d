/**
 * `--auth jwt`: verification of compact JWS tokens (RFC 7515/7519) with WebCrypto.
 *
 * Accepted algorithms: HS256 (a shared secret), RS256 and ES256 (a PEM SPKI public key or keys
 * from a JWKS file, chosen by `kid`). Each key is imported for exactly one algorithm, and a token
 * is only ever checked against keys of the algorithm its header names: "none" and any other alg
 * are refused, and an HS256 token can never be checked with an RSA/EC public key's bytes as an
 * HMAC secret (alg confusion). Claims: `exp` and `nbf` (with leeway), `aud` and `iss` when
 * configured; `sub` is the userId.
 */
import { isValidId } from "../ids.ts";

export type JwtAlg = "HS256" | "RS256" | "ES256";

/** Tokens longer than this are refused before any parsing. */
export const MAX_JWT_LENGTH = 8192;

export interface JwtOptions {
  /** HS256 shared secret (UTF-8 bytes are the HMAC key). */
  secret?: string;
  /** Text of a PEM `PUBLIC KEY` (SPKI): an RSA key (RS256) or a P-256 EC key (ES256). */
  publicKeyPem?: string;
  /** Text of a JWKS document `{"keys":[…]}`: RSA, EC P-256 and oct keys, chosen by `kid`. */
  jwks?: string;
  /** Required `aud` (string, or member of the array), when set. */
  audience?: string;
  /** Required `iss`, when set. */
  issuer?: string;
  /** Clock skew tolerated on `exp` and `nbf`, in seconds. */
  leewaySeconds: number;
}

export type JwtResult =
  | { ok: true; userId: string; claims: Record<string, unknown> }
  | { ok: false; reason: string };

export type JwtKeySource = "secret" | "publicKey" | "jwks";

/** A key or JWKS that cannot be used; the message says why, `source` which option holds it. */
export class JwtKeyError extends Error {
  source: JwtKeySource | undefined;
  constructor(message: string, source?: JwtKeySource) {
    super(message);
    this.name = "JwtKeyError";
    this.source = source;
  }
}

interface VerifyKey {
  alg: JwtAlg;
  /** JWKS keys only. */
  kid?: string;
  key: CryptoKey;
}

const RSA_IMPORT = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const EC_IMPORT = { name: "ECDSA", namedCurve: "P-256" } as const;
const HMAC_IMPORT = { name: "HMAC", hash: "SHA-256" } as const;
const VERIFY_PARAMS: Record<JwtAlg, AlgorithmIdentifier | EcdsaParams> = {
  HS256: "HMAC",
  RS256: "RSASSA-PKCS1-v1_5",
  ES256: { name: "ECDSA", hash: "SHA-256" },
};
const SUPPORTED: readonly string[] = ["HS256", "RS256", "ES256"];
/** RSA keys below this size are refused when loaded. */
const MIN_RSA_BITS = 2048;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class JwtVerifier {
  readonly #keys: readonly VerifyKey[];
  readonly #options: JwtOptions;

  private constructor(keys: VerifyKey[], options: JwtOptions) {
    this.#keys = keys;
    this.#options = options;
  }

  /** Imports every configured key; throws JwtKeyError when one is unusable or none is given. */
  static async create(options: JwtOptions): Promise<JwtVerifier> {
    const keys: VerifyKey[] = [];
    if (options.secret) {
      const key = await crypto.subtle.importKey("raw", encoder.encode(options.secret), HMAC_IMPORT, false, [
        "verify",
      ]);
      keys.push({ alg: "HS256", key });
    }
    if (options.publicKeyPem !== undefined) {
      keys.push(await from("publicKey", importPem(options.publicKeyPem)));
    }
    if (options.jwks !== undefined) keys.push(...await from("jwks", importJwks(options.jwks)));
    if (keys.length === 0) throw new JwtKeyError("no JWT key configured");
    return new JwtVerifier(keys, options);
  }

  /** The algorithms some configured key can verify. */
  get algorithms(): JwtAlg[] {
    return [...new Set(this.#keys.map((k) => k.alg))];
  }

  async verify(token: string, now: number = Date.now()): Promise<JwtResult> {
    if (token.length > MAX_JWT_LENGTH) return fail("token too long");
    const parts = token.split(".");
    if (parts.length !== 3) return fail("not a compact JWS");
    const header = decodeJsonPart(parts[0]);
    if (!header) return fail("malformed header");
    const alg = header.alg;
    if (typeof alg !== "string" || !SUPPORTED.includes(alg)) {
      return fail(`alg ${JSON.stringify(alg)} refused`);
    }
    if (header.crit !== undefined) return fail("crit header not supported");
    if (header.kid !== undefined && typeof header.kid !== "string") return fail("malformed kid");
    const candidates = this.#candidates(alg as JwtAlg, header.kid as string | undefined);
    if (candidates.length === 0) return fail(`no key for alg ${alg}`);
    const signature = decodeBase64Url(parts[2]);
    if (!signature) return fail("malformed signature");
    if (alg === "ES256" && signature.length !== 64) return fail("bad signature");
    const signed = encoder.encode(`${parts[0]}.${parts[1]}`);
    let verified = false;
    for (const { key } of candidates) {
      if (
        await crypto.subtle.verify(VERIFY_PARAMS[alg as JwtAlg], key, signature as BufferSource, signed)
      ) {
        verified = true;
        break;
      }
    }
    if (!verified) return fail("bad signature");
    const claims = decodeJsonPart(parts[1]);
    if (!claims) return fail("malformed claims");
    return this.#checkClaims(claims, now);
  }

  /** Keys of the token's alg; with a `kid`, the keys carrying that kid, else the keys without one. */
  #candidates(alg: JwtAlg, kid: string | undefined): VerifyKey[] {
    const ofAlg = this.#keys.filter((k) => k.alg === alg);
    if (kid === undefined) return ofAlg;
    const byKid = ofAlg.filter((k) => k.kid === kid);
    return byKid.length > 0 ? byKid : ofAlg.filter((k) => k.kid === undefined);
  }

  #checkClaims(claims: Record<string, unknown>, now: number): JwtResult {
    const nowSeconds = now / 1000;
    const leeway = this.#options.leewaySeconds;
    for (const name of ["exp", "nbf", "iat"]) {
      const v = claims[name];
      if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v))) return fail(`malformed ${name}`);
    }
    if (typeof claims.exp === "number" && nowSeconds >= claims.exp + leeway) return fail("token expired");
    if (typeof claims.nbf === "number" && nowSeconds < claims.nbf - leeway) {
      return fail("token not yet valid");
    }
    const { audience, issuer } = this.#options;
    if (issuer && claims.iss !== issuer) return fail("wrong issuer");
    if (audience) {
      const aud = claims.aud;
      const ok = typeof aud === "string"
        ? aud === audience
        : Array.isArray(aud) && aud.some((a) => a === audience);
      if (!ok) return fail("wrong audience");
    }
    const sub = claims.sub;
    if (typeof sub !== "string" || !isValidId(sub)) return fail("missing or invalid sub");
    return { ok: true, userId: sub, claims };
  }
}

/** Tags a key error with the option it came from. */
async function from<T>(source: JwtKeySource, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof JwtKeyError) err.source = source;
    throw err;
  }
}

function fail(reason: string): JwtResult {
  return { ok: false, reason: `jwt: ${reason}` };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Strict base64url without padding (RFC 7515 §2); undefined when malformed. */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined;
  let b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  b64 += "=".repeat((4 - (b64.length % 4)) % 4);
  try {
    const raw = atob(b64);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  } catch {
    return undefined;
  }
}

export function encodeBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeJsonPart(part: string): Record<string, unknown> | undefined {
  const bytes = decodeBase64Url(part);
  if (!bytes) return undefined;
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

/** A PEM `PUBLIC KEY` (SPKI) of an RSA key (RS256) or a P-256 EC key (ES256). */
async function importPem(pem: string): Promise<VerifyKey> {
  const m = pem.match(/-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/);
  if (!m) throw new JwtKeyError("no PEM block found (expected -----BEGIN PUBLIC KEY-----)");
  if (m[1] !== "PUBLIC KEY") {
    throw new JwtKeyError(
      `PEM block "${m[1]}" is not supported: give the SPKI public key (-----BEGIN PUBLIC KEY-----)`,
    );
  }
  let der: Uint8Array;
  try {
    const raw = atob(m[2].replace(/\s+/g, ""));
    der = Uint8Array.from(raw, (c) => c.charCodeAt(0));
  } catch {
    throw new JwtKeyError("PEM body is not valid base64");
  }
  try {
    const key = await crypto.subtle.importKey("spki", der as BufferSource, RSA_IMPORT, false, ["verify"]);
    checkRsaSize(key);
    return { alg: "RS256", key };
  } catch (err) {
    if (err instanceof JwtKeyError) throw err;
  }
  try {
    const key = await crypto.subtle.importKey("spki", der as BufferSource, EC_IMPORT, false, ["verify"]);
    return { alg: "ES256", key };
  } catch {
    throw new JwtKeyError("not an RSA or P-256 EC public key");
  }
}

function checkRsaSize(key: CryptoKey): void {
  const bits = (key.algorithm as RsaHashedKeyAlgorithm).modulusLength;
  if (bits < MIN_RSA_BITS) {
    throw new JwtKeyError(`RSA key of ${bits} bits refused (at least ${MIN_RSA_BITS})`);
  }
}

/**
 * The verification keys of a JWKS document. Keys for other uses (`use` other than "sig") or
 * algorithms (`alg` other than the one jim derives from `kty`/`crv`) are skipped; private key
 * members are never imported.
 */
async function importJwks(text: string): Promise<VerifyKey[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new JwtKeyError(`not valid JSON: ${err instanceof Error ? err.message : err}`);
  }
  const list = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(list)) throw new JwtKeyError('expected a JWKS object {"keys": [...]}');
  const keys: VerifyKey[] = [];
  const skipped: string[] = [];
  for (const [i, jwk] of list.entries()) {
    const label = `key ${i}${typeof jwk?.kid === "string" ? ` (kid ${jwk.kid})` : ""}`;
    if (jwk === null || typeof jwk !== "object") {
      skipped.push(`${label}: not an object`);
      continue;
    }
    const j = jwk as Record<string, unknown>;
    if (j.kid !== undefined && typeof j.kid !== "string") {
      skipped.push(`${label}: kid is not a string`);
      continue;
    }
    if (j.use !== undefined && j.use !== "sig") {
      skipped.push(`${label}: use ${JSON.stringify(j.use)}`);
      continue;
    }
    try {
      const key = await importJwk(j);
      if (j.alg !== undefined && j.alg !== key.alg) {
        skipped.push(`${label}: alg ${JSON.stringify(j.alg)} not supported for this key`);
        continue;
      }
      keys.push({ ...key, kid: j.kid as string | undefined });
    } catch (err) {
      skipped.push(`${label}: ${err instanceof Error ? err.message : err}`);
    }
  }
  if (keys.length === 0) {
    throw new JwtKeyError(`no usable key${skipped.length ? ` (${skipped.join("; ")})` : ""}`);
  }
  return keys;
}

async function importJwk(j: Record<string, unknown>): Promise<{ alg: JwtAlg; key: CryptoKey }> {
  const str = (name: string): string => {
    const v = j[name];
    if (typeof v !== "string" || v === "") throw new JwtKeyError(`missing ${name}`);
    return v;
  };
  switch (j.kty) {
    case "RSA": {
      const key = await crypto.subtle.importKey(
        "jwk",
        { kty: "RSA", n: str("n"), e: str("e") },
        RSA_IMPORT,
        false,
        ["verify"],
      );
      checkRsaSize(key);
      return { alg: "RS256", key };
    }
    case "EC": {
      if (j.crv !== "P-256") throw new JwtKeyError(`curve ${JSON.stringify(j.crv)} not supported`);
      const key = await crypto.subtle.importKey(
        "jwk",
        { kty: "EC", crv: "P-256", x: str("x"), y: str("y") },
        EC_IMPORT,
        false,
        ["verify"],
      );
      return { alg: "ES256", key };
    }
    case "oct": {
      const secret = decodeBase64Url(str("k"));
      if (!secret || secret.length < 32) throw new JwtKeyError("oct key shorter than 32 bytes");
      const key = await crypto.subtle.importKey("raw", secret as BufferSource, HMAC_IMPORT, false, [
        "verify",
      ]);
      return { alg: "HS256", key };
    }
    default:
      throw new JwtKeyError(`kty ${JSON.stringify(j.kty)} not supported`);
  }
}
