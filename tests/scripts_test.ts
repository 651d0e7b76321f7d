/** scripts/jim.service has the required hardening; scripts/install.sh installs into a DESTDIR. */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;
const decoder = new TextDecoder();

Deno.test("jim.service is hardened and runs jim on the state directory", async () => {
  const unit = await Deno.readTextFile(`${ROOT}/scripts/jim.service`);
  const keys = new Map<string, string>();
  for (const line of unit.split("\n")) {
    const m = line.match(/^([A-Za-z]+)=(.*)$/);
    if (m) keys.set(m[1], m[2]);
  }
  const required: Record<string, RegExp> = {
    DynamicUser: /^yes$/,
    StateDirectory: /^jim$/,
    ExecStart: /^\/usr\/local\/bin\/jim --data-dir (\$\{STATE_DIRECTORY\}|\/var\/lib\/jim)$/,
    EnvironmentFile: /^-\/etc\/jim\/jim\.env$/,
    NoNewPrivileges: /^yes$/,
    ProtectSystem: /^strict$/,
    ProtectHome: /^yes$/,
    PrivateTmp: /^yes$/,
    LimitNOFILE: /^1048576$/,
    Restart: /^on-failure$/,
    RestartSec: /^2$/,
    ExecReload: /^\/bin\/kill -HUP \$MAINPID$/,
    KillSignal: /^SIGTERM$/,
    TimeoutStopSec: /^30$/,
  };
  for (const [key, value] of Object.entries(required)) {
    assert.match(keys.get(key) ?? "(missing)", value, key);
  }
  assert.equal(keys.has("AmbientCapabilities"), false, "AmbientCapabilities must stay commented out");
});

async function install(args: string[], destdir: string) {
  const out = await new Deno.Command("sh", {
    args: [`${ROOT}/scripts/install.sh`, ...args],
    env: { DESTDIR: destdir },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

Deno.test("install.sh --dry-run prints its actions and writes nothing", async () => {
  const dest = await Deno.makeTempDir({ prefix: "jim-install-" });
  try {
    const out = await install(["--dry-run", "/nonexistent/jim"], dest);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /install -m 0755 \/nonexistent\/jim .*\/usr\/local\/bin\/jim/);
    assert.match(out.stdout, /jim\.service .*\/etc\/systemd\/system\/jim\.service/);
    assert.match(out.stdout, /\/etc\/jim\/jim\.env/);
    assert.deepEqual([...Deno.readDirSync(dest)], []);
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});

Deno.test("install.sh with DESTDIR installs the binary, unit and example env file", async () => {
  const dest = await Deno.makeTempDir({ prefix: "jim-install-" });
  try {
    const binary = `${dest}/jim-binary`;
    await Deno.writeTextFile(binary, "#!/bin/sh\necho jim\n");
    const out = await install([binary], dest);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /skipping systemctl/);
    assert.equal(await Deno.readTextFile(`${dest}/usr/local/bin/jim`), "#!/bin/sh\necho jim\n");
    assert.equal((await Deno.stat(`${dest}/usr/local/bin/jim`)).mode! & 0o777, 0o755);
    assert.equal(
      await Deno.readTextFile(`${dest}/etc/systemd/system/jim.service`),
      await Deno.readTextFile(`${ROOT}/scripts/jim.service`),
    );
    assert.match(await Deno.readTextFile(`${dest}/etc/jim/jim.env`), /JIM_/);

    // A second install keeps an edited env file.
    await Deno.writeTextFile(`${dest}/etc/jim/jim.env`, "JIM_PORT=9000\n");
    const again = await install([binary], dest);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await Deno.readTextFile(`${dest}/etc/jim/jim.env`), "JIM_PORT=9000\n");
  } finally {
    await Deno.remove(dest, { recursive: true });
  }
});
