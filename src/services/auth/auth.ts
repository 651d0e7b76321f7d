/**
 * Accounts and logins, the façade over the four `--auth` modes:
 *
 * - `password` (default): salted password hashes; an unknown userId registers on first login
 *   when registration is open.
 * - `jwt`: a signed JWT (jwt.ts) is the login; its `sub` is the userId.
 * - `webhook`: the application's URL decides (webhook.ts).
 * - `open`: any userId logs in (open.ts; development only).
 *
 * In every mode the opaque login tokens of cmd 21 (stored hashed) keep working, and a disabled
 * account is refused. In jwt/webhook/open modes a user is created on first successful login
 * (without a password hash) so group membership and history work as usual; `--registration
 * closed` limits jwt and webhook logins to existing accounts (e.g. made with `jim user add`).
 */
import type { Logger } from "../../log.ts";
import type { Store, UserRecord } from "../../store/store.ts";
import { isValidId, MAX_PASSWORD_LENGTH } from "../ids.ts";
import { hashPassword, hashToken, newToken, verifyPassword } from "../password.ts";
import { JwtKeyError, JwtVerifier, MAX_JWT_LENGTH } from "./jwt.ts";
import { openModeUser } from "./open.ts";
import { WebhookAuthenticator } from "./webhook.ts";

export type AuthMode = "password" | "jwt" | "webhook" | "open";

export interface AuthOptions {
  /** Default "password". */
  mode?: AuthMode;
  registration: "open" | "closed";
  passwordIterations: number;
  /** Token lifetime in seconds. */
  tokenTtl: number;
  /** Required in jwt mode. */
  jwt?: JwtVerifier;
  /** Required in webhook mode. */
  webhook?: WebhookAuthenticator;
}

export interface Credentials {
  userId?: string;
  password?: string;
  token?: string;
  /** The client's address (passed to the webhook). */
  remote?: string;
}

export type LoginResult =
  | { ok: true; user: UserRecord; registered: boolean }
  | { ok: false; reason: string };

/** Longest token accepted at all (JWTs and webhook tokens); session tokens are much shorter. */
export const MAX_TOKEN_LENGTH = MAX_JWT_LENGTH;
/** A token of cmd 21 is 43 base64url characters; anything of this shape is looked up first. */
const SESSION_TOKEN_SHAPE = /^[A-Za-z0-9_-]{1,512}$/;

export class AuthService {
  readonly #store: Store;
  readonly #options: AuthOptions;
  readonly #log: Logger;
  readonly mode: AuthMode;
  /** Used to spend the same time on unknown users as on wrong passwords. */
  #dummyHash: Promise<string> | undefined;

  constructor(store: Store, options: AuthOptions, log: Logger) {
    this.#store = store;
    this.#options = options;
    this.#log = log;
    this.mode = options.mode ?? "password";
    if (this.mode === "jwt" && !options.jwt) throw new Error("auth mode jwt needs a JwtVerifier");
    if (this.mode === "webhook" && !options.webhook) throw new Error("auth mode webhook needs a webhook");
  }

  /** Token login when a token is given, else userId + password, as the mode says. */
  async login(credentials: Credentials): Promise<LoginResult> {
    if (credentials.token) return await this.#loginWithToken(credentials);
    const { userId, password } = credentials;
    if (!isValidId(userId)) return { ok: false, reason: "missing or invalid userId" };
    switch (this.mode) {
      case "open":
        return await this.#externalUser(userId);
      case "webhook": {
        if (!password || password.length > MAX_PASSWORD_LENGTH) {
          return { ok: false, reason: "missing password" };
        }
        const decision = await this.#options.webhook!.check({ userId, password, remote: credentials.remote });
        if (!decision.allow) return { ok: false, reason: decision.reason };
        if (decision.userId !== undefined && decision.userId !== userId) {
          return { ok: false, reason: "webhook answered another userId" };
        }
        return await this.#externalUser(userId);
      }
      case "jwt":
        // Accounts given a password by `jim user add` may still use it; nobody registers this way.
        return await this.#passwordLogin(userId, password, false);
      default:
        return await this.#passwordLogin(userId, password, this.#options.registration === "open");
    }
  }

  /** Creates an account; undefined when the id is taken. An empty password makes one without. */
  async register(userId: string, password: string): Promise<UserRecord | undefined> {
    const now = Date.now();
    const user: UserRecord = {
      userId,
      passwordHash: password === "" ? "" : await hashPassword(password, this.#options.passwordIterations),
      nick: userId,
      avatar: "",
      createdAt: now,
      disabled: false,
    };
    if (!await this.#store.createUser(user)) return undefined;
    this.#log.info("user.registered", { userId, mode: this.mode });
    return user;
  }

  async getUser(userId: string): Promise<UserRecord | undefined> {
    return await this.#store.getUser(userId);
  }

  async setPassword(userId: string, password: string): Promise<boolean> {
    const passwordHash = await hashPassword(password, this.#options.passwordIterations);
    return await this.#store.updateUser(userId, { passwordHash });
  }

  /** Issues a login token for the user; only its hash is stored. */
  async issueToken(userId: string): Promise<{ token: string; expiresAt: number }> {
    const token = newToken();
    const expiresAt = Date.now() + this.#options.tokenTtl * 1000;
    await this.#store.saveToken(hashToken(token), userId, expiresAt);
    return { token, expiresAt };
  }

  async #passwordLogin(
    userId: string,
    password: string | undefined,
    mayRegister: boolean,
  ): Promise<LoginResult> {
    if (!password || password.length > MAX_PASSWORD_LENGTH) return { ok: false, reason: "missing password" };
    const existing = await this.#store.getUser(userId);
    if (existing) return await this.#checkPassword(existing, password);
    if (!mayRegister) {
      await this.#burnTime(password);
      return { ok: false, reason: "unknown user and registration is closed" };
    }
    const user = await this.register(userId, password);
    if (user) return { ok: true, user, registered: true };
    // Lost a race with a concurrent registration of the same id: check against the winner.
    const winner = await this.#store.getUser(userId);
    return winner
      ? await this.#checkPassword(winner, password)
      : { ok: false, reason: "registration failed" };
  }

  /**
   * A token: first as a session token of cmd 21 (every mode), then as the mode's own token (a
   * JWT, or whatever the webhook accepts). A userId given beside the token must be its user.
   */
  async #loginWithToken(credentials: Credentials): Promise<LoginResult> {
    const token = credentials.token!;
    const claimed = credentials.userId;
    if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: "invalid token" };
    if (SESSION_TOKEN_SHAPE.test(token)) {
      const userId = await this.#store.findTokenUser(hashToken(token), Date.now());
      if (userId) return await this.#tokenUser(userId, claimed);
    }
    switch (this.mode) {
      case "jwt": {
        const result = await this.#options.jwt!.verify(token);
        if (!result.ok) return result;
        return await this.#tokenUser(result.userId, claimed, true);
      }
      case "webhook": {
        const decision = await this.#options.webhook!.check({
          userId: claimed,
          token,
          remote: credentials.remote,
        });
        if (!decision.allow) return { ok: false, reason: decision.reason };
        if (decision.userId !== undefined && claimed !== undefined && decision.userId !== claimed) {
          return { ok: false, reason: "token belongs to another user" };
        }
        const userId = decision.userId ?? claimed;
        if (!isValidId(userId)) {
          return { ok: false, reason: "webhook allowed the token without a valid userId" };
        }
        return await this.#externalUser(userId);
      }
      case "open": {
        // Any login is accepted, but a token that is not ours says nothing about who it is.
        const open = openModeUser(claimed);
        return open.ok
          ? await this.#externalUser(open.userId)
          : { ok: false, reason: "invalid or expired token" };
      }
      default:
        return { ok: false, reason: "invalid or expired token" };
    }
  }

  async #tokenUser(userId: string, claimed: string | undefined, external = false): Promise<LoginResult> {
    if (claimed && claimed !== userId) return { ok: false, reason: "token belongs to another user" };
    if (external) return await this.#externalUser(userId);
    const user = await this.#store.getUser(userId);
    if (!user || user.disabled) return { ok: false, reason: "account disabled or removed" };
    return { ok: true, user, registered: false };
  }

  /**
   * A user vouched for by a JWT, the webhook or open mode: the existing account (unless disabled),
   * or a new one without a password (not in jwt/webhook mode with registration closed).
   */
  async #externalUser(userId: string): Promise<LoginResult> {
    const existing = await this.#store.getUser(userId);
    if (existing) {
      return existing.disabled
        ? { ok: false, reason: "account disabled" }
        : { ok: true, user: existing, registered: false };
    }
    if (this.mode !== "open" && this.#options.registration !== "open") {
      return { ok: false, reason: "unknown user and registration is closed" };
    }
    const user = await this.register(userId, "");
    if (user) return { ok: true, user, registered: true };
    const winner = await this.#store.getUser(userId);
    if (!winner) return { ok: false, reason: "registration failed" };
    return winner.disabled
      ? { ok: false, reason: "account disabled" }
      : { ok: true, user: winner, registered: false };
  }

  async #checkPassword(user: UserRecord, password: string): Promise<LoginResult> {
    if (!user.passwordHash) {
      await this.#burnTime(password);
      return { ok: false, reason: "account has no password" };
    }
    if (!await verifyPassword(password, user.passwordHash)) return { ok: false, reason: "wrong password" };
    if (user.disabled) return { ok: false, reason: "account disabled" };
    return { ok: true, user, registered: false };
  }

  async #burnTime(password: string): Promise<void> {
    this.#dummyHash ??= hashPassword("jim-dummy-password", this.#options.passwordIterations);
    await verifyPassword(password, await this.#dummyHash);
  }
}

// ---------------------------------------------------------------------------------------------
// Setup: the verifiers behind the jwt and webhook modes, from the configured values.

/** The auth part of the configuration (file paths still unread). */
export interface AuthSetup {
  mode: AuthMode;
  jwtSecret: string;
  /** Path of a PEM SPKI public key, "" = none. */
  jwtPublicKey: string;
  /** Path of a JWKS file, "" = none. */
  jwtJwks: string;
  jwtAudience: string;
  jwtIssuer: string;
  /** Seconds. */
  jwtLeeway: number;
  webhookUrl: string;
  /** Milliseconds. */
  webhookTimeout: number;
  /** Seconds; 0 = off. */
  webhookCache: number;
}

/** A key file that cannot be read or used; the message names the option. */
export class AuthSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AuthSetupError";
  }
}

/**
 * Reads the key files and imports the keys the mode needs (only those). Throws AuthSetupError,
 * naming the option, when a file is unreadable or holds no usable key.
 */
export async function loadAuthBackends(
  setup: AuthSetup,
  readFile: (path: string) => Promise<string>,
): Promise<Pick<AuthOptions, "mode" | "jwt" | "webhook">> {
  if (setup.mode === "webhook") {
    if (!setup.webhookUrl) throw new AuthSetupError("--auth webhook needs --auth-webhook-url");
    return {
      mode: "webhook",
      webhook: new WebhookAuthenticator({
        url: setup.webhookUrl,
        timeoutMs: setup.webhookTimeout,
        cacheSeconds: setup.webhookCache,
      }),
    };
  }
  if (setup.mode !== "jwt") return { mode: setup.mode };
  const read = async (flag: string, path: string): Promise<string | undefined> => {
    if (!path) return undefined;
    try {
      return await readFile(path);
    } catch (err) {
      throw new AuthSetupError(`${flag} ${path}: cannot read: ${err instanceof Error ? err.message : err}`);
    }
  };
  const publicKeyPem = await read("--jwt-public-key", setup.jwtPublicKey);
  const jwks = await read("--jwt-jwks", setup.jwtJwks);
  const options = {
    audience: setup.jwtAudience || undefined,
    issuer: setup.jwtIssuer || undefined,
    leewaySeconds: setup.jwtLeeway,
  };
  try {
    const jwt = await JwtVerifier.create({
      ...options,
      secret: setup.jwtSecret || undefined,
      publicKeyPem,
      jwks,
    });
    return { mode: "jwt", jwt };
  } catch (err) {
    if (err instanceof JwtKeyError) {
      const label = err.source === "publicKey"
        ? `--jwt-public-key ${setup.jwtPublicKey}`
        : err.source === "jwks"
        ? `--jwt-jwks ${setup.jwtJwks}`
        : "--auth jwt (needs --jwt-secret, --jwt-public-key or --jwt-jwks)";
      throw new AuthSetupError(`${label}: ${err.message}`);
    }
    throw err;
  }
}
