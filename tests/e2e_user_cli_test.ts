/**
 * `jim user …` as child processes (the start task's permissions), beside a running server:
 * add, login with that password over TCP, passwd, disable (logins refused), enable, list.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { BODY, bodyOf } from "./_e2e.ts";
import { permissionFlags, runJim, spawnJim } from "./_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Run {
  code: number;
  out: string;
  err: string;
}

/** `jim ARGS` with `input` on stdin (none: stdin closed at once). */
async function jim(args: string[], input?: string): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...await permissionFlags(), `${ROOT}/main.ts`, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  if (input !== undefined) await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const output = await child.output();
  return { code: output.code, out: decoder.decode(output.stdout), err: decoder.decode(output.stderr) };
}

async function login(port: number, userId: string, password: string): Promise<string> {
  const c = await JimClient.connectTcp({ port });
  try {
    return bodyOf(await c.login(userId, password));
  } finally {
    c.close();
  }
}

Deno.test("jim user: add, passwd, disable, enable, list beside a running server", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-user-cli-" });
  const common = ["--data-dir", dataDir, "--password-iterations", "1000"];
  // Before any server ran: add creates the database.
  let r = await jim(["user", "add", "alice", "--password-stdin", ...common], "s3cret\n");
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.trim(), "user added: alice");
  r = await jim(["user", "add", "alice", "--password-stdin", ...common], "again\n");
  assert.equal(r.code, 1);
  assert.match(r.err, /user alice already exists/);

  const server = await spawnJim(["--registration", "closed", ...common]);
  try {
    assert.equal(await login(server.port, "alice", "s3cret"), BODY.loginOk);
    assert.equal(await login(server.port, "alice", "wrong"), BODY.loginFailed);
    assert.equal(await login(server.port, "bob", "pw"), BODY.loginFailed, "registration is closed");

    // Added while the server runs.
    r = await jim(["user", "add", "bob", "--password-stdin", ...common], "bob-pw\r\nignored second line\n");
    assert.equal(r.code, 0, r.err);
    assert.equal(await login(server.port, "bob", "bob-pw"), BODY.loginOk);
    r = await jim(["user", "add", "svc", "--no-password", ...common]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), "user added: svc (no password)");

    r = await jim(["user", "passwd", "alice", "--password-stdin", ...common], "n3w-pass");
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), "password changed: alice");
    assert.equal(await login(server.port, "alice", "s3cret"), BODY.loginFailed);
    assert.equal(await login(server.port, "alice", "n3w-pass"), BODY.loginOk);

    r = await jim(["user", "disable", "alice", ...common]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^user disabled: alice/);
    assert.equal(await login(server.port, "alice", "n3w-pass"), BODY.loginFailed);

    r = await jim(["user", "list", ...common]);
    assert.equal(r.code, 0, r.err);
    const rows = r.out.trim().split("\n").map((line) => line.split("\t").slice(0, 3));
    assert.deepEqual(rows, [
      ["alice", "disabled", "password"],
      ["bob", "enabled", "password"],
      ["svc", "enabled", "no-password"],
    ]);
    r = await jim(["user", "list", "--after", "alice", "--limit=1", ...common]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.split("\t")[0], "bob");
    assert.match(r.err, /jim user list --after bob/);

    r = await jim(["user", "enable", "alice", ...common]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), "user enabled: alice");
    assert.equal(await login(server.port, "alice", "n3w-pass"), BODY.loginOk);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }

  // Failures (1) and usage errors (2).
  r = await jim(["user", "disable", "nobody", ...common]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no user nobody/);
  r = await jim(["user", "passwd", "alice", "--password-stdin", ...common], "\n");
  assert.equal(r.code, 1);
  assert.match(r.err, /empty password/);
  r = await jim(["user", "add", "carol", ...common]);
  assert.equal(r.code, 2, "no terminal and no --password-stdin");
  assert.match(r.err, /--password-stdin/);
  for (
    const args of [
      ["user"],
      ["user", "frobnicate", "x"],
      ["user", "add"],
      ["user", "disable", "a", "b"],
      ["user", "list", "--limit", "0"],
      ["user", "disable", "alice", "--password-stdin"],
      ["backup", "x.db", "--password-stdin"],
    ]
  ) {
    r = await jim([...args, ...common]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
  }
  const missing = await runJim(["user", "list", "--data-dir", `${dataDir}/none`]);
  assert.equal(missing.code, 1);
  assert.match(decoder.decode(missing.stderr), /no database at/);
  await Deno.remove(dataDir, { recursive: true });
});
