/**
 * Accounts and logins: password logins with salted hashes, registration on first login when
 * registration is open, and opaque login tokens (stored hashed) for password-less re-login.
 */
import type { Logger } from "../log.ts";
import type { Store, UserRecord } from "../store/store.ts";
import { isValidId, MAX_PASSWORD_LENGTH } from "./ids.ts";
import { hashPassword, hashToken, newToken, verifyPassword } from "./password.ts";

export interface AuthOptions {
  registration: "open" | "closed";
  passwordIterations: number;
  /** Token lifetime in seconds. */
  tokenTtl: number;
}

export interface Credentials {
  userId?: string;
  password?: string;
  token?: string;
}

export type LoginResult =
  | { ok: true; user: UserRecord; registered: boolean }
  | { ok: false; reason: string };

export class AuthService {
  readonly #store: Store;
  readonly #options: AuthOptions;
  readonly #log: Logger;
  /** Used to spend the same time on unknown users as on wrong passwords. */
  #dummyHash: Promise<string> | undefined;

  constructor(store: Store, options: AuthOptions, log: Logger) {
    this.#store = store;
    this.#options = options;
    this.#log = log;
  }

  /** Token login when a token is given, else userId + password (registering when allowed). */
  async login(credentials: Credentials): Promise<LoginResult> {
    if (credentials.token) return await this.#loginWithToken(credentials.token, credentials.userId);
    const { userId, password } = credentials;
    if (!isValidId(userId)) return { ok: false, reason: "missing or invalid userId" };
    if (!password || password.length > MAX_PASSWORD_LENGTH) return { ok: false, reason: "missing password" };
    const existing = await this.#store.getUser(userId);
    if (existing) return await this.#checkPassword(existing, password);
    if (this.#options.registration !== "open") {
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

  /** Creates an account; undefined when the id is taken. */
  async register(userId: string, password: string): Promise<UserRecord | undefined> {
    const now = Date.now();
    const user: UserRecord = {
      userId,
      passwordHash: await hashPassword(password, this.#options.passwordIterations),
      nick: userId,
      avatar: "",
      createdAt: now,
      disabled: false,
    };
    if (!await this.#store.createUser(user)) return undefined;
    this.#log.info("user.registered", { userId });
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
    await this.#store.saveToken(await hashToken(token), userId, expiresAt);
    return { token, expiresAt };
  }

  async #loginWithToken(token: string, claimedUserId: string | undefined): Promise<LoginResult> {
    if (token.length > 512) return { ok: false, reason: "invalid token" };
    const userId = await this.#store.findTokenUser(await hashToken(token), Date.now());
    if (!userId) return { ok: false, reason: "invalid or expired token" };
    if (claimedUserId && claimedUserId !== userId) {
      return { ok: false, reason: "token belongs to another user" };
    }
    const user = await this.#store.getUser(userId);
    if (!user || user.disabled) return { ok: false, reason: "account disabled or removed" };
    return { ok: true, user, registered: false };
  }

  async #checkPassword(user: UserRecord, password: string): Promise<LoginResult> {
    if (!user.passwordHash || !await verifyPassword(password, user.passwordHash)) {
      return { ok: false, reason: "wrong password" };
    }
    if (user.disabled) return { ok: false, reason: "account disabled" };
    return { ok: true, user, registered: false };
  }

  async #burnTime(password: string): Promise<void> {
    this.#dummyHash ??= hashPassword("jim-dummy-password", this.#options.passwordIterations);
    await verifyPassword(password, await this.#dummyHash);
  }
}
