/**
 * End-to-end: the `--auth` modes over real sockets. JWTs (HS256, RS256, ES256 from a PEM file or
 * a JWKS file) through cmd 5 `token`, WebSocket `?token=` and cmd 3; every kind of bad token;
 * the webhook mode against a stub HTTP server; open mode's start warning; cmd 21 tokens in every
 * mode.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { JimClient } from "../src/client/jim_client.ts";
import type { JimConfig } from "../src/config/schema.ts";
import { encodeBase64Url } from "../src/services/auth/jwt.ts";
import { BODY, bodyOf, expectNext, waitUntil } from "./_e2e.ts";
import { startServer, type TestServer } from "./_server.ts";
import { runJim, spawnJim } from "./_process.ts";

const enc = new TextEncoder();
const SECRET = "test-secret-0123456789-abcdefghijklmnop";
const AUTH_FAILED = `{"code":10010,"command":4,"msg":"auth failed! 鉴权失败!"}`;
const authOk = (data: Record<string, unknown>) =>
  `{"code":10009,"command":4,"data":${JSON.stringify(data)},"msg":"ok 鉴权成功!"}`;

// ---- keys and tokens ----

type Signer = { alg: "HS256" | "RS256" | "ES256"; sign(data: Uint8Array): Promise<Uint8Array> };

async function hmacSigner(secret: string | Uint8Array): Promise<Signer> {
  const raw = typeof secret === "string" ? enc.encode(secret) : secret;
  const key = await crypto.subtle.importKey(
    "raw",
    raw as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    [
      "sign",
    ],
  );
  return {
    alg: "HS256",
    sign: async (data) => new Uint8Array(await crypto.subtle.sign("HMAC", key, data as BufferSource)),
  };
}

interface KeyPair {
  signer: Signer;
  pem: string;
  jwk: JsonWebKey;
}

async function rsaPair(): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  );
  return {
    signer: {
      alg: "RS256",
      sign: async (data) =>
        new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", pair.privateKey, data as BufferSource)),
    },
    pem: toPem(new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey))),
    jwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
  };
}

async function ecPair(): Promise<KeyPair> {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  return {
    signer: {
      alg: "ES256",
      sign: async (data) =>
        new Uint8Array(
          await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data as BufferSource),
        ),
    },
    pem: toPem(new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey))),
    jwk: await crypto.subtle.exportKey("jwk", pair.publicKey),
  };
}

function toPem(der: Uint8Array): string {
  const b64 = btoa(String.fromCharCode(...der));
  return `-----BEGIN PUBLIC KEY-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

const b64json = (v: unknown) => encodeBase64Url(enc.encode(JSON.stringify(v)));
const now = () => Math.floor(Date.now() / 1000);

async function jwt(signer: Signer, claims: Record<string, unknown>, header: Record<string, unknown> = {}) {
  const input = `${b64json({ alg: signer.alg, typ: "JWT", ...header })}.${b64json(claims)}`;
  return `${input}.${encodeBase64Url(await signer.sign(enc.encode(input)))}`;
}

const RSA = await rsaPair();
const EC = await ecPair();
const HS = await hmacSigner(SECRET);
const KEY_DIR = await Deno.makeTempDir({ prefix: "jim-auth-keys-" });
const RSA_PEM = join(KEY_DIR, "rsa.pem");
const EC_PEM = join(KEY_DIR, "ec.pem");
const JWKS = join(KEY_DIR, "jwks.json");
await Deno.writeTextFile(RSA_PEM, RSA.pem);
await Deno.writeTextFile(EC_PEM, EC.pem);
await Deno.writeTextFile(
  JWKS,
  JSON.stringify({
    keys: [
      { ...RSA.jwk, kid: "r1", use: "sig", alg: "RS256" },
      { ...EC.jwk, kid: "e1" },
      { kty: "RSA", kid: "enc", use: "enc", n: RSA.jwk.n, e: RSA.jwk.e }, // skipped: not for signatures
    ],
  }),
);
globalThis.addEventListener("unload", () => Deno.removeSync(KEY_DIR, { recursive: true }));

// ---- helpers ----

async function withAuthServer(overrides: Partial<JimConfig>, fn: (server: TestServer) => Promise<void>) {
  const server = await startServer(overrides);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/** cmd 5 with a token: logged in (10007) or refused (10008 + close). */
async function tokenLogin(
  server: TestServer,
  token: string,
  protocol: "tcp" | "ws" = "tcp",
): Promise<JimClient> {
  const c = protocol === "tcp" ? await server.tcp() : await server.ws();
  await c.send(5, { token });
  return c;
}

async function assertLoginOk(server: TestServer, token: string, userId: string): Promise<void> {
  const c = await tokenLogin(server, token);
  assert.equal(bodyOf(await c.next(6)), BODY.loginOk);
  assert.equal(server.app.services.registry.isOnline(userId), true);
  c.close();
}

async function assertLoginRefused(server: TestServer, token: string, what: string): Promise<void> {
  const c = await tokenLogin(server, token);
  assert.equal(bodyOf(await c.next(6)), BODY.loginFailed, what);
  await c.waitClosed();
  // cmd 3 with the same token: 10010, and the connection stays open.
  const d = await server.tcp();
  await d.send(3, { token });
  await expectNext(d, 4, AUTH_FAILED);
  await d.send(17, { type: 0, userId: "x" });
  await expectNext(d, 18, BODY.notLoggedIn(18));
  assert.equal(d.closed, false, what);
  d.close();
}

// ---- JWT ----

Deno.test("jwt HS256: cmd 5 token, WebSocket ?token= and cmd 3 log the subject in; the user is created", async () => {
  await withAuthServer({ auth: "jwt", jwtSecret: SECRET, defaultGroups: ["100"] }, async (server) => {
    const token = await jwt(HS, { sub: "alice", exp: now() + 600 });
    await assertLoginOk(server, token, "alice");
    const alice = await server.app.store.getUser("alice");
    assert.equal(alice?.passwordHash, "", "created on first login without a password");

    const w = await server.ws(`/?token=${encodeURIComponent(await jwt(HS, { sub: "bob" }))}`);
    await expectNext(w, 9, BODY.joinNotify("100", "bob"));
    await expectNext(w, 6, BODY.loginOk);

    // cmd 3: the same login flow (cmd 9 first), answered with J-IM's echo.
    const carolToken = await jwt(HS, { sub: "carol", exp: now() + 600 });
    const t = await server.tcp();
    await t.send(3, { token: carolToken });
    await expectNext(t, 9, BODY.joinNotify("100", "carol"));
    await expectNext(t, 4, authOk({ token: carolToken + "authKey" }));
    await t.send(21, {});
    const issued = await t.next(22);
    assert.equal((issued.body.data as { userId: string }).userId, "carol");
    // A logged-in session's cmd 3 is the plain echo again.
    await t.send(3, { token: "anything" });
    await expectNext(t, 4, authOk({ token: "anythingauthKey" }));

    // A userId beside the token must be the token's subject.
    const c = await server.tcp();
    await c.send(5, { token, userId: "mallory" });
    assert.equal(bodyOf(await c.next(6)), BODY.loginFailed);
  });
});

Deno.test("jwt RS256 and ES256 from PEM files", async () => {
  await withAuthServer({ auth: "jwt", jwtPublicKey: RSA_PEM }, async (server) => {
    await assertLoginOk(server, await jwt(RSA.signer, { sub: "r-user", exp: now() + 60 }), "r-user");
    await assertLoginRefused(server, await jwt(EC.signer, { sub: "e-user" }), "ES256 without an EC key");
    await assertLoginRefused(server, await jwt(HS, { sub: "h-user" }), "HS256 without a secret");
  });
  await withAuthServer({ auth: "jwt", jwtPublicKey: EC_PEM }, async (server) => {
    await assertLoginOk(server, await jwt(EC.signer, { sub: "e-user", exp: now() + 60 }), "e-user");
    const w = await server.ws(`/?token=${await jwt(EC.signer, { sub: "e-ws" })}`);
    await expectNext(w, 6, BODY.loginOk);
  });
});

Deno.test("jwt JWKS: keys chosen by kid", async () => {
  await withAuthServer({ auth: "jwt", jwtJwks: JWKS }, async (server) => {
    await assertLoginOk(server, await jwt(RSA.signer, { sub: "k-rsa" }, { kid: "r1" }), "k-rsa");
    await assertLoginOk(server, await jwt(EC.signer, { sub: "k-ec" }, { kid: "e1" }), "k-ec");
    await assertLoginOk(server, await jwt(EC.signer, { sub: "k-nokid" }), "k-nokid");
    await assertLoginRefused(server, await jwt(RSA.signer, { sub: "x" }, { kid: "nope" }), "unknown kid");
    await assertLoginRefused(server, await jwt(RSA.signer, { sub: "x" }, { kid: "enc" }), "encryption key");
  });
});

Deno.test("jwt: expired, not yet valid, wrong aud/iss, alg none, alg confusion, bad signature → 10008 / 10010", async () => {
  const overrides: Partial<JimConfig> = {
    auth: "jwt",
    jwtSecret: SECRET,
    jwtPublicKey: RSA_PEM,
    jwtAudience: "jim",
    jwtIssuer: "https://issuer.example",
    jwtLeeway: 30,
  };
  await withAuthServer(overrides, async (server) => {
    const good = { sub: "dave", aud: "jim", iss: "https://issuer.example", exp: now() + 600 };
    await assertLoginOk(server, await jwt(HS, good), "dave");
    await assertLoginOk(server, await jwt(RSA.signer, { ...good, aud: ["other", "jim"] }), "dave");
    // Within the leeway.
    await assertLoginOk(server, await jwt(HS, { ...good, exp: now() - 10, nbf: now() + 10 }), "dave");

    const bad: [string, string][] = [
      ["expired", await jwt(HS, { ...good, exp: now() - 120 })],
      ["not yet valid", await jwt(HS, { ...good, nbf: now() + 120 })],
      ["wrong aud", await jwt(HS, { ...good, aud: "other" })],
      ["aud array without jim", await jwt(HS, { ...good, aud: ["a", "b"] })],
      ["no aud", await jwt(HS, { sub: "dave", iss: good.iss })],
      ["wrong iss", await jwt(HS, { ...good, iss: "https://evil.example" })],
      ["no sub", await jwt(HS, { aud: "jim", iss: good.iss })],
      ["exp not a number", await jwt(HS, { ...good, exp: "never" })],
      ["alg none", `${b64json({ alg: "none", typ: "JWT" })}.${b64json(good)}.`],
      ["alg None", `${b64json({ alg: "None" })}.${b64json(good)}.${encodeBase64Url(new Uint8Array(32))}`],
      // HS256 signed with the RSA public key's bytes as the HMAC secret.
      ["alg confusion (PEM)", await jwt(await hmacSigner(RSA.pem), good)],
      ["RS256 with an HMAC signature", await jwt({ ...await hmacSigner(RSA.pem), alg: "RS256" }, good)],
      [
        "HS256 signed with another secret",
        await jwt(await hmacSigner("another-secret-another-secret-xx"), good),
      ],
      ["ES256 without an EC key", await jwt(EC.signer, good)],
      ["crit header", await jwt(HS, good, { crit: ["exp"] })],
      ["not a JWT", "a.b"],
      ["too long", await jwt(HS, { ...good, pad: "x".repeat(9000) })],
    ];
    const token = await jwt(HS, good);
    const [h, p, s] = token.split(".");
    bad.push(["bad signature", `${h}.${p}.${s.slice(0, -2)}${s.endsWith("AA") ? "BA" : "AA"}`]);
    bad.push(["changed claims", `${h}.${b64json({ ...good, sub: "root" })}.${s}`]);
    for (const [what, t] of bad) await assertLoginRefused(server, t, what);

    // WebSocket ?token= with a bad token: 10008 and close.
    const w = await server.ws(`/?token=${bad[0][1]}`);
    assert.equal(bodyOf(await w.next(6)), BODY.loginFailed);
    await w.waitClosed();
  });
});

Deno.test("jwt alg confusion: an RSA-only server refuses HS256 tokens keyed with its public key", async () => {
  await withAuthServer({ auth: "jwt", jwtPublicKey: RSA_PEM }, async (server) => {
    const pemBytes = await hmacSigner(RSA.pem);
    const derBytes = await hmacSigner(
      Uint8Array.from(atob(RSA.pem.replace(/-----[A-Z ]+-----|\s/g, "")), (c) => c.charCodeAt(0)),
    );
    await assertLoginRefused(server, await jwt(pemBytes, { sub: "eve" }), "HS256 with PEM bytes");
    await assertLoginRefused(server, await jwt(derBytes, { sub: "eve" }), "HS256 with DER bytes");
    assert.equal(await server.app.store.getUser("eve"), undefined);
  });
});

Deno.test("jwt: cmd 21 tokens keep working, disabled users and closed registration are refused", async () => {
  await withAuthServer({ auth: "jwt", jwtSecret: SECRET }, async (server) => {
    const c = await tokenLogin(server, await jwt(HS, { sub: "erin" }));
    assert.equal(bodyOf(await c.next(6)), BODY.loginOk);
    await c.send(21, {});
    const session = (await c.next(22)).body.data as { token: string };
    await assertLoginOk(server, session.token, "erin");
    // cmd 3 with a cmd 21 token.
    const t = await server.tcp();
    await t.send(3, { token: session.token });
    await expectNext(t, 4, authOk({ token: session.token + "authKey" }));

    // Passwords do not register anyone in jwt mode.
    const p = await server.tcp();
    assert.equal(bodyOf(await p.login("frank", "pw")), BODY.loginFailed);

    await server.app.store.updateUser("erin", { disabled: true });
    await assertLoginRefused(server, await jwt(HS, { sub: "erin" }), "disabled (jwt)");
    await assertLoginRefused(server, session.token, "disabled (cmd 21 token)");
  });
  await withAuthServer({ auth: "jwt", jwtSecret: SECRET, registration: "closed" }, async (server) => {
    await assertLoginRefused(server, await jwt(HS, { sub: "gina" }), "unknown user, registration closed");
    await server.app.services.auth.register("gina", "");
    await assertLoginOk(server, await jwt(HS, { sub: "gina" }), "gina");
  });
});

// ---- password mode: cmd 3 ----

Deno.test("password mode: cmd 3 logs in with a cmd 21 token; an unknown token keeps J-IM's echo", async () => {
  await withAuthServer({}, async (server) => {
    const a = await server.tcp();
    assert.equal(bodyOf(await a.login("hana", "pw")), BODY.loginOk);
    await a.send(21, {});
    const { token } = (await a.next(22)).body.data as { token: string };
    const w = await server.ws();
    await w.send(3, { token, extra: 1 });
    await expectNext(w, 4, authOk({ extra: 1, token: token + "authKey" }));
    await w.send(17, { type: 0, userId: "hana" });
    assert.equal((await w.next(18)).body.code, 10005);

    const x = await server.tcp();
    await x.send(3, { token: await jwt(HS, { sub: "hana" }) });
    assert.equal((await x.next(4)).body.code, 10009, "J-IM's echo");
    await x.send(17, { type: 0, userId: "x" });
    await expectNext(x, 18, BODY.notLoggedIn(18));
  });
});

// ---- webhook ----

interface Stub {
  url: string;
  calls: Record<string, unknown>[];
  close(): Promise<void>;
}

function webhookStub(): Stub {
  const calls: Record<string, unknown>[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.json() as Record<string, unknown>;
    calls.push(body);
    const json = (v: unknown, status = 200) =>
      new Response(JSON.stringify(v), { status, headers: { "content-type": "application/json" } });
    if (body.token === "app-token-ivy") return json({ allow: true, userId: "ivy" });
    if (body.token === "app-token-nobody") return json({ allow: true });
    switch (body.password) {
      case "good":
        return json({ allow: true });
      case "other-user":
        return json({ allow: true, userId: "somebody-else" });
      case "slow":
        await new Promise((r) => setTimeout(r, 800));
        return json({ allow: true });
      case "broken":
        return json({ error: "boom" }, 500);
      case "forbidden":
        return json({ allow: true }, 403);
      default:
        return json({ allow: false });
    }
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/auth`,
    calls,
    close: () => server.shutdown(),
  };
}

Deno.test("webhook: allow, deny, timeout, failures, token → userId mapping and the decision cache", async () => {
  const stub = webhookStub();
  try {
    await withAuthServer(
      { auth: "webhook", authWebhookUrl: stub.url, authWebhookTimeout: 200, authWebhookCache: 30 },
      async (server) => {
        const login = async (userId: string, password: string) => {
          const c = await server.tcp();
          const reply = bodyOf(await c.login(userId, password));
          c.close();
          return reply;
        };
        // Allow: the user is created without a password; the webhook saw the credentials.
        assert.equal(await login("jack", "good"), BODY.loginOk);
        assert.equal(stub.calls.length, 1);
        assert.equal(stub.calls[0].userId, "jack");
        assert.equal(stub.calls[0].password, "good");
        assert.match(String(stub.calls[0].remote), /^127\.0\.0\.1:\d+$/);
        assert.equal((await server.app.store.getUser("jack"))?.passwordHash, "");
        // Cached: the same credentials do not call again.
        assert.equal(await login("jack", "good"), BODY.loginOk);
        assert.equal(stub.calls.length, 1);

        // Deny, cached as well.
        assert.equal(await login("jack", "wrong"), BODY.loginFailed);
        assert.equal(await login("jack", "wrong"), BODY.loginFailed);
        assert.equal(stub.calls.length, 2);

        // Timeout and failures deny and are not cached.
        const before = stub.calls.length;
        assert.equal(await login("kate", "slow"), BODY.loginFailed);
        assert.equal(await login("kate", "slow"), BODY.loginFailed);
        assert.equal(await login("kate", "broken"), BODY.loginFailed);
        assert.equal(await login("kate", "broken"), BODY.loginFailed);
        assert.equal(stub.calls.length, before + 4);
        assert.equal(await server.app.store.getUser("kate"), undefined);
        // A 4xx answer denies whatever its body says; a different userId for a password login denies.
        assert.equal(await login("kate", "forbidden"), BODY.loginFailed);
        assert.equal(await login("kate", "other-user"), BODY.loginFailed);

        // Tokens: the webhook maps them to a userId (cmd 5, WebSocket, cmd 3).
        const c = await tokenLogin(server, "app-token-ivy");
        assert.equal(bodyOf(await c.next(6)), BODY.loginOk);
        const w = await server.ws("/?token=app-token-ivy");
        await expectNext(w, 6, BODY.loginOk);
        const t = await server.tcp();
        await t.send(3, { token: "app-token-ivy" });
        await expectNext(t, 4, authOk({ token: "app-token-ivyauthKey" }));
        await waitUntil(() => server.app.services.registry.isOnline("ivy"), "ivy online");
        // Allowed without saying who: refused. Unknown token over cmd 3: 10010, connection kept.
        await assertLoginRefused(server, "app-token-nobody", "token without a userId");
        await assertLoginRefused(server, "unknown-token", "denied token");

        // cmd 21 tokens work without the webhook.
        await t.send(21, {});
        const { token } = (await t.next(22)).body.data as { token: string };
        const calls = stub.calls.length;
        await assertLoginOk(server, token, "ivy");
        assert.equal(stub.calls.length, calls);
      },
    );
    // Cache off: every login calls.
    await withAuthServer(
      { auth: "webhook", authWebhookUrl: stub.url, authWebhookCache: 0 },
      async (server) => {
        const before = stub.calls.length;
        for (let i = 0; i < 2; i++) {
          const c = await server.tcp();
          assert.equal(bodyOf(await c.login("liam", "good")), BODY.loginOk);
          c.close();
        }
        assert.equal(stub.calls.length, before + 2);
      },
    );
  } finally {
    await stub.close();
  }
});

// ---- open mode and start-up checks (child processes) ----

Deno.test("open mode: a loud warning at start; any password logs in", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-open-" });
  const jim = await spawnJim(["--auth", "open", "--data-dir", dataDir]);
  try {
    assert.match(jim.stderr(), /!!! WARNING: --auth open: ANY userId logs in without a password check/);
    assert.match(jim.stderr(), /"level":"warn","event":"auth.open_mode"/);
    for (const password of ["one", "two"]) {
      const c = await JimClient.connectTcp({ port: jim.port });
      assert.equal(bodyOf(await c.login("mia", password)), BODY.loginOk);
      c.close();
    }
  } finally {
    assert.equal((await jim.stop()).code, 0);
    await Deno.remove(dataDir, { recursive: true });
  }
});

Deno.test("start-up: jwt without a key is a config error (2); an unusable key file fails the start (1)", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-auth-cfg-" });
  try {
    let out = await runJim(["--auth", "jwt", "--data-dir", dataDir]);
    assert.equal(out.code, 2);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /--auth: jwt needs --jwt-secret, --jwt-public-key or --jwt-jwks/,
    );

    out = await runJim([], { JIM_AUTH: "webhook", JIM_DATA_DIR: dataDir });
    assert.equal(out.code, 2);
    assert.match(new TextDecoder().decode(out.stderr), /JIM_AUTH: webhook needs --auth-webhook-url/);

    const missing = join(dataDir, "missing.pem");
    out = await runJim(["--auth", "jwt", "--jwt-public-key", missing, "--data-dir", dataDir, "--port", "0"]);
    assert.equal(out.code, 1);
    assert.match(
      new TextDecoder().decode(out.stderr),
      /cannot start: --jwt-public-key .*missing\.pem: cannot read/,
    );

    const junk = join(dataDir, "junk.json");
    await Deno.writeTextFile(junk, JSON.stringify({ keys: [{ kty: "RSA", use: "enc" }] }));
    out = await runJim(["--auth", "jwt", "--jwt-jwks", junk, "--data-dir", dataDir, "--port", "0"]);
    assert.equal(out.code, 1);
    assert.match(new TextDecoder().decode(out.stderr), /--jwt-jwks .*junk\.json: no usable key/);
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
