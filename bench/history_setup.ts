/**
 * Writes the history scenario's data set with jim's own store (the real schema, seqs, full-text
 * rows and conversation index), before the server starts on it: `total` private messages in
 * conversations h0↔h1, h2↔h3… of `length` messages each, interleaved in time as real traffic
 * would be. Users h0… get the password "bench" (1000 PBKDF2 iterations).
 *
 *   deno run -A bench/history_setup.ts DB_PATH [TOTAL=1000000] [LENGTH=10000]
 */
import { SqliteStore } from "../src/store/sqlite/sqlite_store.ts";
import { hashPassword } from "../src/services/password.ts";

const [path, totalArg = "1000000", lengthArg = "10000"] = Deno.args;
const total = Number(totalArg);
const length = Number(lengthArg);
const conversations = Math.ceil(total / length);
const store = SqliteStore.open({ path, commitIntervalMs: 0, maxBatch: 20_000 });
const passwordHash = await hashPassword("bench", 1000);
const t0 = Date.now() - total; // one message per ms, ending now
for (let u = 0; u < 2 * conversations; u++) {
  await store.createUser({
    userId: `h${u}`,
    passwordHash,
    nick: `h${u}`,
    avatar: "",
    createdAt: t0,
    disabled: false,
  });
}
const words = [
  "hello",
  "meeting",
  "tomorrow",
  "lunch",
  "project",
  "deploy",
  "review",
  "coffee",
  "later",
  "thanks",
];
const CHUNK = 20_000;
const started = performance.now();
for (let start = 0; start < total; start += CHUNK) {
  const pending: Promise<unknown>[] = [];
  for (let i = start; i < Math.min(total, start + CHUNK); i++) {
    const c = i % conversations;
    const fromSide = (i / conversations) & 1;
    const from = `h${2 * c + fromSide}`;
    const to = `h${2 * c + 1 - fromSide}`;
    const w = (k: number) => words[(i * 7 + k * 3) % words.length];
    const content = `${w(0)} ${w(1)} ${w(2)} message ${i} ${w(3)} ${w(4)} `.padEnd(100, "x");
    pending.push(
      store.appendMessage(
        { id: `m${i}`, chatType: 2, from, to, msgType: 0, content, createTime: t0 + i },
        [],
      ),
    );
  }
  await Promise.all(pending);
  if ((start / CHUNK) % 10 === 0) {
    const rate = Math.round((start + CHUNK) / ((performance.now() - started) / 1000));
    console.error(`history setup: ${Math.min(total, start + CHUNK)} / ${total} (${rate} msg/s)`);
  }
}
await store.close();
