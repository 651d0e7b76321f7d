/**
 * The single binary. `deno compile` needs a denort runtime: downloaded (network) or DENORT_BIN.
 * This file tries to build one at load; where it cannot, the binary test is skipped (ignored,
 * with the reason in its name) and the program is still proven with exactly the binary's
 * permission flags through `deno run`.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { compile, compileArgs } from "../scripts/compile.ts";
import { permissionFlags } from "./_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** The permission flags the compiled binary gets (`deno compile`'s arguments, as built). */
async function binaryPermissions(): Promise<string[]> {
  return (await compileArgs()).filter((a) =>
    a.startsWith("--allow-") || a.startsWith("--deny-") || a.startsWith("--unstable-")
  );
}

/** Runs a jim command line (a binary, or deno run …) on a free port until it logs server.started. */
async function launch(cmd: string, args: string[]): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = new Deno.Command(cmd, {
    args: [
      ...args,
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--log-format",
      "json",
      "--password-iterations",
      "1000",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let err = "";
  const reader = child.stderr.getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`jim exited before listening:\n${err}`);
    err += decoder.decode(value, { stream: true });
    const m = err.match(/"event":"server.started","main":"[^"]*:(\d+)"/);
    if (m) {
      // Keep draining stderr so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })();
      return { child, port: Number(m[1]) };
    }
  }
}

/** Logs in over TCP, sends a message, stops the server with SIGTERM: exit 0, the message kept. */
async function chatAndStop(cmd: string, args: string[], dataDir: string): Promise<void> {
  const { child, port } = await launch(cmd, [...args, "--data-dir", dataDir]);
  try {
    const alice = await JimClient.connectTcp({ port });
    assert.equal((await alice.login("alice", "pw")).body.code, 10007);
    await alice.send(11, { chatType: 2, to: "alice", content: "note to self" });
    assert.equal((await alice.next(12)).body.code, 10000);
    alice.close();
  } finally {
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
  }
  const files = [...Deno.readDirSync(dataDir)].map((e) => e.name);
  assert.ok(files.includes("jim.db"), `jim.db in ${files}`);
}

Deno.test("the binary's permission flags are the start task's, explicit and minimal", async () => {
  const flags = await binaryPermissions();
  assert.deepEqual(flags, await permissionFlags(), "one source of truth: deno.json's start task");
  // --unstable-net: SO_REUSEPORT, so that --workers can share the port.
  assert.deepEqual(flags, ["--unstable-net", "--allow-net", "--allow-read", "--allow-write", "--allow-env"]);
  const args = await compileArgs({ target: "aarch64-apple-darwin" });
  for (const broad of ["-A", "--allow-all", "--allow-run", "--allow-ffi", "--allow-sys"]) {
    assert.ok(!args.includes(broad), `${broad} must not be granted`);
  }
  assert.deepEqual(args.slice(-3), ["--target", "aarch64-apple-darwin", "main.ts"]);
  assert.ok(args.includes("dist/jim-aarch64-apple-darwin"));
  assert.ok(
    (await compileArgs({ target: "x86_64-pc-windows-msvc" })).includes("dist/jim-x86_64-pc-windows-msvc.exe"),
  );
});

Deno.test("main.ts runs with exactly the binary's permission flags: login, chat, SIGTERM", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-perms-" });
  try {
    await chatAndStop(Deno.execPath(), ["run", ...await binaryPermissions(), `${ROOT}/main.ts`], dataDir);
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

// Try the real build once, at load. Offline without DENORT_BIN it fails within seconds.
const buildDir = await Deno.makeTempDir({ prefix: "jim-binary-" });
const binary = `${buildDir}/jim${Deno.build.os === "windows" ? ".exe" : ""}`;
const built = await compile({ output: binary, stdio: "null" }) === 0;
if (!built) await Deno.remove(buildDir, { recursive: true }).catch(() => {});

Deno.test({
  name: built
    ? "the compiled binary serves: version, login over TCP, a message, SIGTERM"
    : "the compiled binary serves (skipped: deno compile could not build here; it needs the network " +
      "to fetch denort, or DENORT_BIN)",
  ignore: !built,
  fn: async () => {
    try {
      const version = await new Deno.Command(binary, { args: ["version"], stdout: "piped" }).output();
      assert.equal(version.code, 0);
      assert.match(new TextDecoder().decode(version.stdout), /^jim \d+\.\d+\.\d+/);
      await chatAndStop(binary, [], `${buildDir}/data`);
    } finally {
      await Deno.remove(buildDir, { recursive: true }).catch(() => {});
    }
  },
});
