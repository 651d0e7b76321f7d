/**
 * `jim user …`: account administration on the data dir's database.
 *
 *   jim user add USER [--password-stdin | --no-password]
 *   jim user passwd USER [--password-stdin]
 *   jim user disable USER | jim user enable USER
 *   jim user list [--after ID] [--limit N]
 *
 * The database is opened directly (SQLite in WAL mode with a busy timeout), so these commands are
 * safe beside a running server. A disabled user's live connections are not cut: every later login
 * (password, token, JWT, webhook) is refused; `/api/user/close?userid=…` ends the live ones.
 * Passwords come from a no-echo prompt on a terminal, or from the first line of stdin with
 * --password-stdin; never from the command line (it would show in `ps` and shell history).
 */
import { databasePath } from "../app.ts";
import type { JimConfig } from "../config/schema.ts";
import { isValidId, MAX_PASSWORD_LENGTH } from "../services/ids.ts";
import { hashPassword } from "../services/password.ts";
import { SqliteStore } from "../store/sqlite/sqlite_store.ts";
import type { Store, UserRecord } from "../store/store.ts";
import { CliError, type CliIo, CONSOLE_IO, errorText, exists } from "./db_file.ts";

export const USER_USAGE = [
  "usage: jim user add USER [--password-stdin | --no-password] [--data-dir DIR]",
  "       jim user passwd USER [--password-stdin] [--data-dir DIR]",
  "       jim user disable USER [--data-dir DIR]",
  "       jim user enable USER [--data-dir DIR]",
  "       jim user list [--after ID] [--limit N] [--data-dir DIR]",
].join("\n");

/** Flags of `jim user` itself rather than configuration options (main.ts passes them on). */
export const USER_FLAGS: readonly string[] = ["--password-stdin", "--no-password"];
/** `jim user list` flags that take a value (`--after ID` or `--after=ID`). */
export const USER_VALUE_FLAGS: readonly string[] = ["--after", "--limit"];

const DEFAULT_LIST_LIMIT = 100;
const MAX_LIST_LIMIT = 10_000;
const MAX_STDIN_BYTES = 64 * 1024;

/**
 * Splits `jim user`'s own flags out of the arguments so the configuration resolver does not see
 * them. Value flags come back as `--name=value`; a value flag without its value stays bare (a
 * usage error later).
 */
export function extractUserFlags(args: readonly string[]): { rest: string[]; flags: string[] } {
  const rest: string[] = [];
  const flags: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const name = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    if (USER_FLAGS.includes(arg)) {
      flags.push(arg);
    } else if (USER_VALUE_FLAGS.includes(name)) {
      if (arg !== name) flags.push(arg);
      else if (i + 1 < args.length) flags.push(`${arg}=${args[++i]}`);
      else flags.push(arg);
    } else {
      rest.push(arg);
    }
  }
  return { rest, flags };
}

/** Where passwords come from; the console by default, a stub in tests. */
export interface PasswordInput {
  /** Whether stdin is a terminal (then the password is prompted for, without echo). */
  isTerminal(): boolean;
  /** Everything on stdin (for --password-stdin). */
  readAll(): Promise<string>;
  /** Asks on the terminal without echo; undefined when cancelled. */
  prompt(question: string): Promise<string | undefined>;
}

export const CONSOLE_INPUT: PasswordInput = {
  isTerminal: () => Deno.stdin.isTerminal(),
  readAll: readStdin,
  prompt: promptHidden,
};

/**
 * Runs `jim user` with the positionals after "user" and its own flags (as extractUserFlags gives
 * them). Exit code: 0 done, 1 failed or refused, 2 usage error.
 */
export async function runUser(
  config: JimConfig,
  args: readonly string[],
  io: CliIo = CONSOLE_IO,
  input: PasswordInput = CONSOLE_INPUT,
): Promise<number> {
  const flags = args.filter((a) => a.startsWith("--"));
  const [action, ...operands] = args.filter((a) => !a.startsWith("--"));
  const flagNames = flags.map((f) => f.includes("=") ? f.slice(0, f.indexOf("=")) : f);
  const allowed: Record<string, readonly string[]> = {
    add: ["--password-stdin", "--no-password"],
    passwd: ["--password-stdin"],
    disable: [],
    enable: [],
    list: ["--after", "--limit"],
  };
  const usage = (problem?: string) => {
    io.err((problem ? `jim user: ${problem}\n` : "") + USER_USAGE);
    return 2;
  };
  if (!action || !(action in allowed)) return usage(action ? `unknown action "${action}"` : undefined);
  const bad = flagNames.find((f) => !allowed[action].includes(f));
  if (bad) return usage(`${bad} is not an option of jim user ${action}`);
  if (flagNames.includes("--password-stdin") && flagNames.includes("--no-password")) {
    return usage("--password-stdin and --no-password exclude each other");
  }
  const value = (name: string): string | undefined => {
    const f = flags.find((x) => x === name || x.startsWith(name + "="));
    return f === undefined ? undefined : f.includes("=") ? f.slice(f.indexOf("=") + 1) : "";
  };

  if (action === "list") {
    if (operands.length > 0) return usage();
    const after = value("--after") ?? "";
    const limitText = value("--limit");
    const limit = limitText === undefined ? DEFAULT_LIST_LIMIT : Number(limitText);
    if (!/^\d+$/.test(limitText ?? "1") || limit < 1 || limit > MAX_LIST_LIMIT) {
      return usage(`--limit must be an integer between 1 and ${MAX_LIST_LIMIT}`);
    }
    if (value("--after") === "") return usage("--after needs a userId");
    return await guarded(io, () => listUsers(config, after, limit, io));
  }

  if (operands.length !== 1) return usage();
  const userId = operands[0];
  if (!isValidId(userId)) {
    return usage(`invalid userId ${JSON.stringify(userId)} (1–128 characters, no controls)`);
  }

  switch (action) {
    case "add": {
      let password = "";
      if (!flagNames.includes("--no-password")) {
        const got = await readPassword(input, flagNames.includes("--password-stdin"), userId, io);
        if (typeof got === "number") return got;
        password = got;
      }
      return await guarded(io, () =>
        withStore(config, true, async (store) => {
          const user: UserRecord = {
            userId,
            passwordHash: password ? await hashPassword(password, config.passwordIterations) : "",
            nick: userId,
            avatar: "",
            createdAt: Date.now(),
            disabled: false,
          };
          if (!await store.createUser(user)) throw new CliError(`user ${userId} already exists`);
          io.out(`user added: ${userId}${password ? "" : " (no password)"}`);
        }));
    }
    case "passwd": {
      const got = await readPassword(input, flagNames.includes("--password-stdin"), userId, io);
      if (typeof got === "number") return got;
      return await guarded(io, () =>
        withStore(config, false, async (store) => {
          await requireUser(store, userId);
          const passwordHash = await hashPassword(got, config.passwordIterations);
          if (!await store.updateUser(userId, { passwordHash })) throw new CliError(`no user ${userId}`);
          io.out(`password changed: ${userId}`);
        }));
    }
    default: {
      const disabled = action === "disable";
      return await guarded(io, () =>
        withStore(config, false, async (store) => {
          await requireUser(store, userId);
          if (!await store.updateUser(userId, { disabled })) throw new CliError(`no user ${userId}`);
          io.out(
            disabled
              ? `user disabled: ${userId} (later logins are refused; live connections stay until they end)`
              : `user enabled: ${userId}`,
          );
        }));
    }
  }
}

async function listUsers(config: JimConfig, after: string, limit: number, io: CliIo): Promise<void> {
  await withStore(config, false, async (store) => {
    const users = await store.listUsers(after, limit);
    for (const u of users) {
      io.out(
        [
          u.userId,
          u.disabled ? "disabled" : "enabled",
          u.passwordHash ? "password" : "no-password",
          new Date(u.createdAt).toISOString(),
        ].join("\t"),
      );
    }
    if (users.length === limit) {
      io.err(`(more users may follow: jim user list --after ${users[users.length - 1].userId})`);
    }
  });
}

async function requireUser(store: Store, userId: string): Promise<void> {
  if (!await store.getUser(userId)) throw new CliError(`no user ${userId}`);
}

/** Exit code 1 with the message for any failure. */
async function guarded(io: CliIo, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return 0;
  } catch (err) {
    io.err(`jim user: ${errorText(err)}`);
    return 1;
  }
}

/** Opens the data dir's database (creating it only for `add`), runs `work`, closes it. */
async function withStore(config: JimConfig, create: boolean, work: (store: Store) => Promise<void>) {
  const path = databasePath(config);
  if (!exists(path)) {
    if (!create) throw new CliError(`no database at ${path} (is --data-dir right?)`);
    Deno.mkdirSync(config.dataDir, { recursive: true });
  }
  const store = SqliteStore.open({ path, commitIntervalMs: 0 });
  try {
    await work(store);
  } finally {
    await store.close();
  }
}

/** The password, or an exit code when there is none to be had. */
async function readPassword(
  input: PasswordInput,
  fromStdin: boolean,
  userId: string,
  io: CliIo,
): Promise<string | number> {
  let password: string | undefined;
  if (fromStdin) {
    let text: string;
    try {
      text = await input.readAll();
    } catch (err) {
      io.err(`jim user: cannot read stdin: ${errorText(err)}`);
      return 1;
    }
    password = text.split(/\r?\n/)[0];
  } else {
    if (!input.isTerminal()) {
      io.err("jim user: no terminal to ask for the password on: pass it on stdin with --password-stdin");
      return 2;
    }
    password = await input.prompt(`Password for ${userId}: `);
    if (password === undefined) return 1;
    const again = await input.prompt("Repeat the password: ");
    if (again !== password) {
      io.err("jim user: the passwords differ");
      return 1;
    }
  }
  if (!password) {
    io.err("jim user: empty password");
    return 1;
  }
  if (password.length > MAX_PASSWORD_LENGTH) {
    io.err(`jim user: password longer than ${MAX_PASSWORD_LENGTH} characters`);
    return 1;
  }
  return password;
}

async function readStdin(): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of Deno.stdin.readable) {
    size += chunk.length;
    if (size > MAX_STDIN_BYTES) throw new Error(`more than ${MAX_STDIN_BYTES} bytes`);
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.length;
  }
  return new TextDecoder().decode(all);
}

/** Reads one line from the terminal with echo off; undefined on Ctrl-C / Ctrl-D / end of input. */
async function promptHidden(question: string): Promise<string | undefined> {
  const encoder = new TextEncoder();
  Deno.stderr.writeSync(encoder.encode(question));
  Deno.stdin.setRaw(true);
  const bytes: number[] = [];
  const buf = new Uint8Array(1);
  try {
    while (true) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return undefined;
      const c = buf[0];
      if (c === 3 || c === 4) return undefined; // Ctrl-C, Ctrl-D
      if (c === 13 || c === 10) break;
      if (c === 127 || c === 8) {
        // Drop one whole UTF-8 character: its continuation bytes, then its lead byte.
        while (bytes.length > 0 && (bytes[bytes.length - 1] & 0xc0) === 0x80) bytes.pop();
        bytes.pop();
      } else {
        bytes.push(c);
      }
    }
  } finally {
    Deno.stdin.setRaw(false);
    Deno.stderr.writeSync(encoder.encode("\n"));
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}
