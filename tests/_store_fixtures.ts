/** Shared pieces of the Store contract suites (tests/store_contract*.ts). Registers no test. */
import type { NewMessage, Store, StoredMessage, UserRecord } from "../src/store/store.ts";

/** Makes a fresh, empty store; `cleanup` closes it (if still open) and removes its files. */
export type MakeStore = () => Promise<{ store: Store; cleanup: () => Promise<void> }>;

export interface ContractOptions {
  /**
   * Opens what `store.backup(path)` wrote as a store (closed by the test). Without it the backup
   * test only checks that a file was written and an existing path is refused.
   */
  openBackup?: (path: string) => Promise<Store>;
}

/** Registers `title` for one implementation: a fresh store per test, cleaned up afterwards. */
export function storeTest(name: string, makeStore: MakeStore) {
  return (title: string, fn: (store: Store) => Promise<void>) =>
    Deno.test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await makeStore();
      try {
        await fn(store);
      } finally {
        await cleanup();
      }
    });
}

export function user(userId: string, extra: Partial<UserRecord> = {}): UserRecord {
  return {
    userId,
    passwordHash: "",
    nick: "nick-" + userId,
    avatar: "",
    createdAt: 1000,
    disabled: false,
    ...extra,
  };
}

export function priv(
  from: string,
  to: string,
  createTime: number,
  id = `${from}-${to}-${createTime}`,
): NewMessage {
  return { id, chatType: 2, from, to, msgType: 0, content: `hi from ${from}`, createTime };
}

export function grp(
  from: string,
  groupId: string,
  createTime: number,
  id = `${from}-${groupId}-${createTime}`,
): NewMessage {
  return { id, chatType: 1, from, groupId, msgType: 0, content: `hello ${groupId}`, createTime };
}

/** Appends and returns the stored message (fails the test on a duplicate). */
export async function put(s: Store, m: NewMessage, offline: readonly string[] = []): Promise<StoredMessage> {
  const r = await s.appendMessage(m, offline);
  if (r.duplicate) throw new Error(`unexpected duplicate ${m.from}/${m.id}`);
  return r.message;
}

export async function makeGroup(s: Store, groupId: string, members: readonly string[]): Promise<void> {
  await s.ensureGroup({ groupId, name: groupId, avatar: "", createdAt: 1 });
  for (const [i, m] of members.entries()) await s.addMember(groupId, m, 100 + i);
}

/** Waits until Date.now() has moved past `t` (storedAt values are Date.now()). */
export async function tickPast(t: number): Promise<void> {
  while (Date.now() <= t) await new Promise((r) => setTimeout(r, 1));
}

export const ids = (ms: readonly StoredMessage[]) => ms.map((m) => m.id);
export const seqs = (ms: readonly StoredMessage[]) => ms.map((m) => m.seq);
export const all = { offset: 0, limit: 1000 };
export const P = (userA: string, userB: string) => ({ kind: "private", userA, userB }) as const;
export const G = (groupId: string) => ({ kind: "group", groupId }) as const;
