/**
 * The message format between WorkerStore (main thread) and store_worker.ts (the thread that owns
 * the database). Both sides import this module, so the method list and the error encoding are
 * defined once.
 *
 *   main → worker  CallMessage[]   {id, method, args}; method: a Store method, or OPEN_METHOD
 *   worker → main  ReplyMessage[]  {id, ok: true, value} or {id, ok: false, error: {name, message, code?}}
 *
 * Each side posts everything it produced in one tick as one array (one clone and one wake-up of
 * the other thread instead of one per call). The worker starts calls in the order they were made;
 * replies may arrive in another order (a read can finish before an earlier append's group commit).
 */
import type { Store } from "../store.ts";

/**
 * Every Store method, exactly once. Listing a name that is not a Store method, or leaving one out
 * after it was added to Store, is a type error, so the proxy cannot silently miss a method.
 */
export const STORE_METHODS = {
  getUser: true,
  createUser: true,
  updateUser: true,
  listUsers: true,
  saveToken: true,
  findTokenUser: true,
  deleteToken: true,
  purgeExpiredTokens: true,
  getGroup: true,
  ensureGroup: true,
  addMember: true,
  removeMember: true,
  isMember: true,
  listMembers: true,
  listUserGroups: true,
  listGroups: true,
  createGroup: true,
  getGroupSettings: true,
  getMember: true,
  listMemberRecords: true,
  setMemberRole: true,
  setGroupOwner: true,
  setMutedUntil: true,
  banUser: true,
  unbanUser: true,
  getBan: true,
  listBans: true,
  addInvite: true,
  removeInvite: true,
  listInvites: true,
  deleteGroup: true,
  appendMessage: true,
  findSentMessage: true,
  messagesBySeq: true,
  lastSeq: true,
  listConversations: true,
  markRead: true,
  getReadSeq: true,
  readCounts: true,
  recallMessage: true,
  search: true,
  pruneMessages: true,
  history: true,
  takeOffline: true,
  countOffline: true,
  backup: true,
  commitLatency: true,
  close: true,
} as const satisfies Record<keyof Store, true>;

export type StoreMethod = keyof typeof STORE_METHODS;

/** The first message: asks the worker to open its database. Not a Store method name. */
export const OPEN_METHOD = "$open";

/** args[0] is a transferred MessagePort: the worker serves calls arriving on it too (--workers). */
export const PORT_METHOD = "$port";

/** What the worker needs to open the SQLite store (only cloneable fields: no callbacks). */
export interface WorkerStoreOpenOptions {
  /** Database file path (":memory:" works too, but then the data lives only as long as the worker). */
  path: string;
  /** Group-commit wait, see SqliteStoreOptions.commitIntervalMs. */
  commitIntervalMs?: number;
  /** Group-commit batch size, see SqliteStoreOptions.maxBatch. */
  maxBatch?: number;
}

export interface CallMessage {
  id: number;
  method: string;
  args: unknown[];
}

export interface ErrorShape {
  name: string;
  message: string;
  /** Node-style error code (node:sqlite sets "ERR_SQLITE_ERROR"), when there is one. */
  code?: string;
}

export type ReplyMessage =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorShape };

export function isStoreMethod(name: string): name is StoreMethod {
  return Object.hasOwn(STORE_METHODS, name);
}

/** Flattens anything thrown into a cloneable {name, message, code?}. */
export function encodeError(err: unknown): ErrorShape {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const shape: ErrorShape = { name: err.name, message: err.message };
    if (typeof code === "string") shape.code = code;
    return shape;
  }
  return { name: "Error", message: String(err) };
}

const ERROR_CLASSES: Record<string, ErrorConstructor> = {
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Re-creates an Error with the worker's name and message (and the built-in class when it is one). */
export function decodeError(shape: ErrorShape): Error {
  const err = new (ERROR_CLASSES[shape.name] ?? Error)(shape.message);
  if (err.name !== shape.name) err.name = shape.name;
  if (shape.code !== undefined) (err as Error & { code?: string }).code = shape.code;
  return err;
}
