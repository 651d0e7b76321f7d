/**
 * The whole program as a user runs it: `main.ts` in a child process with the start task's
 * permission flags; a TCP client and a WebSocket client chat privately and in a group; the
 * server restarts on the same data dir and history, offline messages and accounts are still there.
 */
import assert from "node:assert/strict";
import { JimClient } from "../src/client/jim_client.ts";
import { runJim, spawnJim } from "./_process.ts";

const data = (p: { body: Record<string, unknown> }) => p.body.data as Record<string, unknown>;

Deno.test("jim keeps accounts, history and offline messages across a restart", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-restart-" });
  try {
    let jim = await spawnJim([
      "--data-dir",
      dataDir,
      "--password-iterations",
      "1000",
      "--default-groups",
      "100",
    ]);
    try {
      const carol = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await carol.login("carol", "pw-c")).body.code, 10007);
      carol.close();
      await carol.waitClosed();

      const alice = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await alice.login("alice", "pw-a")).body.code, 10007);
      const bob = await JimClient.connectWs({ port: jim.port, path: "/?username=bob&password=pw-b" });
      assert.equal((await bob.next(6)).body.code, 10007);

      await alice.send(11, { chatType: 2, to: "bob", content: "hello bob", createTime: 1000 });
      assert.equal((await alice.next(12)).body.code, 10000);
      assert.equal(data(await bob.next(11)).content, "hello bob");
      await bob.send(11, { chatType: 2, to: "alice", content: "hi alice", createTime: 2000 });
      assert.equal((await bob.next(12)).body.code, 10000);
      assert.equal(data(await alice.next(11)).content, "hi alice");

      await bob.send(11, { chatType: "1", groupId: "100", content: "hello group", createTime: 3000 });
      assert.equal((await bob.next(12)).body.code, 10000);
      assert.equal(data(await alice.next(11)).content, "hello group");

      await alice.send(11, { chatType: 2, to: "carol", content: "while you were out" });
      assert.equal((await alice.next(12)).body.code, 10001);
      alice.close();
      bob.close();
    } finally {
      const status = await jim.stop("SIGTERM");
      assert.equal(status.code, 0, jim.stderr());
    }

    jim = await spawnJim(["--data-dir", dataDir, "--password-iterations", "1000"]);
    try {
      const wrong = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await wrong.login("alice", "not-her-password")).body.code, 10008);
      await wrong.waitClosed();

      const alice = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await alice.login("alice", "pw-a")).body.code, 10007);
      await alice.send(19, { type: 1, userId: "alice", fromUserId: "bob" });
      const history = await alice.next(20);
      assert.equal(history.body.code, 10018);
      const friends = data(history).friends as Record<string, { content: string }[]>;
      assert.deepEqual(friends.bob.map((m) => m.content), ["hello bob", "hi alice"]);

      await alice.send(19, { type: 1, userId: "alice", groupId: "100" });
      const groups = data(await alice.next(20)).groups as Record<string, { content: string }[]>;
      assert.deepEqual(groups["100"].map((m) => m.content), ["hello group"]);

      const carol = await JimClient.connectWs({ port: jim.port, path: "/?username=carol&password=pw-c" });
      assert.equal((await carol.next(6)).body.code, 10007);
      await carol.send(19, { type: "0", userId: "carol" });
      const offline = await carol.next(20);
      assert.equal(offline.body.code, 10016);
      const fromAlice = (data(offline).friends as Record<string, { content: string; from: string }[]>).alice;
      assert.deepEqual(fromAlice.map((m) => m.content), ["while you were out"]);
      alice.close();
      carol.close();
    } finally {
      assert.equal((await jim.stop("SIGINT")).code, 0, jim.stderr());
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});

Deno.test("jim --help lists every option with its env name and default", async () => {
  const out = await runJim(["--help"]);
  assert.equal(out.code, 0);
  const help = new TextDecoder().decode(out.stdout);
  for (
    const [flag, env, def] of [
      ["--host", "JIM_HOST", "0.0.0.0"],
      ["--port", "JIM_PORT", "8888"],
      ["--data-dir", "JIM_DATA_DIR", ""],
      ["--api-token", "JIM_API_TOKEN", ""],
      ["--registration", "JIM_REGISTRATION", "open"],
      ["--heartbeat-timeout", "JIM_HEARTBEAT_TIMEOUT", "0"],
      ["--max-body", "JIM_MAX_BODY", "2202009"],
      ["--log-level", "JIM_LOG_LEVEL", "info"],
    ]
  ) {
    assert.ok(help.includes(flag), `${flag} missing from --help`);
    assert.ok(help.includes(env), `${env} missing from --help`);
    assert.ok(help.includes(def), `default ${def} missing from --help`);
  }
});

Deno.test("jim reports every configuration problem at once and exits 2", async () => {
  const out = await runJim(["--port", "abc", "--registration", "maybe"], { JIM_MAX_BODY: "-5" });
  assert.equal(out.code, 2);
  const err = new TextDecoder().decode(out.stderr);
  assert.match(err, /--port/);
  assert.match(err, /--registration/);
  assert.match(err, /JIM_MAX_BODY/);
});

Deno.test("jim takes flags after deno task's `--` and environment variables", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "jim-flags-" });
  try {
    const jim = await spawnJim(["--", "--data-dir", dataDir], { JIM_REGISTRATION: "closed" });
    try {
      const c = await JimClient.connectTcp({ port: jim.port });
      assert.equal((await c.login("nobody", "pw")).body.code, 10008);
      await c.waitClosed();
      const files = [...Deno.readDirSync(dataDir)].map((e) => e.name);
      assert.ok(files.includes("jim.db"), `jim.db not in ${files}`);
    } finally {
      await jim.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true }).catch(() => {});
  }
});
