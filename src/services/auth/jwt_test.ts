import assert from "node:assert/strict";
import { decodeBase64Url, encodeBase64Url, JwtKeyError, JwtVerifier } from "./jwt.ts";

const enc = new TextEncoder();
const SECRET = "unit-test-secret-unit-test-secret";

async function hs256(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "HS256" }) {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(SECRET),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  const input = `${encodeBase64Url(enc.encode(JSON.stringify(header)))}.${
    encodeBase64Url(enc.encode(JSON.stringify(claims)))
  }`;
  return `${input}.${
    encodeBase64Url(new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(input))))
  }`;
}

async function pemOf(alg: RsaHashedKeyGenParams | EcKeyGenParams, label = "PUBLIC KEY"): Promise<string> {
  const pair = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const der = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey));
  return `-----BEGIN ${label}-----\n${btoa(String.fromCharCode(...der))}\n-----END ${label}-----\n`;
}

Deno.test("jwt: base64url is strict", () => {
  assert.deepEqual(decodeBase64Url("AQID"), new Uint8Array([1, 2, 3]));
  assert.deepEqual(decodeBase64Url("_-8"), new Uint8Array([255, 239]));
  assert.equal(decodeBase64Url("AQ=="), undefined, "no padding");
  assert.equal(decodeBase64Url("A+/="), undefined, "no base64 alphabet");
  assert.equal(decodeBase64Url("A"), undefined);
  assert.equal(encodeBase64Url(new Uint8Array([255, 239])), "_-8");
});

Deno.test("jwt: claims with leeway, audience and issuer", async () => {
  const v = await JwtVerifier.create({ secret: SECRET, audience: "jim", issuer: "iss", leewaySeconds: 30 });
  assert.deepEqual(v.algorithms, ["HS256"]);
  const t = 1_000_000;
  const at = (s: number) => s * 1000;
  const base = { sub: "u", aud: "jim", iss: "iss" };
  assert.equal((await v.verify(await hs256({ ...base, exp: t }), at(t - 1))).ok, true);
  assert.equal((await v.verify(await hs256({ ...base, exp: t }), at(t + 29))).ok, true);
  assert.deepEqual(await v.verify(await hs256({ ...base, exp: t }), at(t + 30)), {
    ok: false,
    reason: "jwt: token expired",
  });
  assert.equal((await v.verify(await hs256({ ...base, nbf: t }), at(t - 30))).ok, true);
  assert.equal((await v.verify(await hs256({ ...base, nbf: t }), at(t - 31))).ok, false);
  assert.equal((await v.verify(await hs256({ ...base, aud: ["x", "jim"] }))).ok, true);
  assert.equal((await v.verify(await hs256({ ...base, aud: [] }))).ok, false);
  assert.equal((await v.verify(await hs256({ ...base, iss: undefined }))).ok, false);
  assert.equal((await v.verify(await hs256({ ...base, sub: "" }))).ok, false);
  assert.equal((await v.verify(await hs256({ ...base, sub: 5 }))).ok, false);
  assert.equal((await v.verify(await hs256(base, { alg: "HS256", kid: 7 }))).ok, false);
  assert.equal((await v.verify(await hs256(base, { alg: "HS512" }))).ok, false);
  const r = await v.verify(await hs256(base));
  assert.ok(r.ok && r.userId === "u");
});

Deno.test("jwt: unusable keys are refused at load", async () => {
  const rejects = async (
    options: Parameters<typeof JwtVerifier.create>[0],
    pattern: RegExp,
    source?: string,
  ) => {
    const err = await JwtVerifier.create(options).then(() => undefined, (e) => e);
    assert.ok(err instanceof JwtKeyError, String(err));
    assert.match(err.message, pattern);
    assert.equal(err.source, source);
  };
  const base = { leewaySeconds: 0 };
  await rejects(base, /no JWT key/);
  await rejects({ ...base, publicKeyPem: "hello" }, /no PEM block/, "publicKey");
  const rsa1024 = await pemOf({
    name: "RSASSA-PKCS1-v1_5",
    modulusLength: 1024,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: "SHA-256",
  });
  await rejects({ ...base, publicKeyPem: rsa1024 }, /1024 bits refused/, "publicKey");
  const pkcs1 = (await pemOf({ name: "ECDSA", namedCurve: "P-256" })).replaceAll(
    "PUBLIC KEY",
    "RSA PUBLIC KEY",
  );
  await rejects({ ...base, publicKeyPem: pkcs1 }, /"RSA PUBLIC KEY" is not supported/, "publicKey");
  await rejects(
    { ...base, publicKeyPem: await pemOf({ name: "ECDSA", namedCurve: "P-384" }) },
    /not an RSA or P-256/,
    "publicKey",
  );
  await rejects({ ...base, jwks: "[]" }, /expected a JWKS/, "jwks");
  await rejects({ ...base, jwks: '{"keys":[{"kty":"oct","k":"c2hvcnQ"}]}' }, /shorter than 32 bytes/, "jwks");
  await rejects({ ...base, jwks: '{"keys":[{"kty":"EC","crv":"P-521","x":"a","y":"b"}]}' }, /P-521/, "jwks");

  const ec = await JwtVerifier.create({
    ...base,
    publicKeyPem: await pemOf({ name: "ECDSA", namedCurve: "P-256" }),
  });
  assert.deepEqual(ec.algorithms, ["ES256"]);
});
