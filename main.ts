/**
 * jim entry point: read the configuration, start the server, stop gracefully on SIGINT/SIGTERM
 * (a second signal drops the remaining connections at once), reload the live options (log
 * level, limits, TLS certificate) on SIGHUP.
 * Everything else lives in src/; this file is the only place with process-level side effects.
 */
import { type App, createApp } from "./src/app.ts";
import { ConfigError, resolveConfig } from "./src/config/resolve.ts";
import { renderHelp } from "./src/config/help.ts";
import { VERSION } from "./src/version.ts";
import { runBackup } from "./src/cli/backup.ts";
import { RESTORE_FLAGS, runRestore } from "./src/cli/restore.ts";
import { extractUserFlags, runUser } from "./src/cli/user.ts";
import { runCheckConfig, runPrintConfig } from "./src/cli/config.ts";
import { AuthSetupError } from "./src/services/auth/auth.ts";
import { OPEN_MODE_BANNER } from "./src/services/auth/open.ts";
import { DataDirLockedError } from "./src/store/data_dir_lock.ts";
import { createLogger, type Logger } from "./src/log.ts";
import type { JimConfig } from "./src/config/schema.ts";
import { reusePortAvailable, runWorkers, workerCount } from "./src/workers/supervisor.ts";

function readConfigFile(path: string): string {
  return Deno.readTextFileSync(path);
}

async function main(args: string[]): Promise<number> {
  // `restore --no-keep` is a flag of that command, not a configuration option.
  const commandFlags = args.filter((a) => RESTORE_FLAGS.includes(a));
  args = args.filter((a) => !RESTORE_FLAGS.includes(a));
  // Likewise `jim user`'s own flags (--password-stdin, --after ID, …).
  const { rest: withoutUserFlags, flags: userFlags } = extractUserFlags(args);
  args = withoutUserFlags;
  let resolved;
  try {
    resolved = resolveConfig(args, Deno.env.toObject(), readConfigFile);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  if (resolved.help) {
    console.log(renderHelp());
    return 0;
  }
  const [command = "serve", ...rest] = resolved.positionals;
  if (command === "version") {
    console.log(`jim ${VERSION} (deno ${Deno.version.deno})`);
    return 0;
  }
  if (commandFlags.length > 0 && command !== "restore") {
    console.error(`${commandFlags[0]} is an option of jim restore only\nRun jim --help for usage.`);
    return 2;
  }
  if (userFlags.length > 0 && command !== "user") {
    console.error(`${userFlags[0].split("=")[0]} is an option of jim user only\nRun jim --help for usage.`);
    return 2;
  }
  if (command === "user") {
    for (const warning of resolved.warnings) console.error(`warning: ${warning}`);
    return await runUser(resolved.config, [...rest, ...userFlags]);
  }
  if ((command === "check-config" || command === "print-config") && rest.length === 0) {
    return command === "check-config" ? runCheckConfig(resolved) : runPrintConfig(resolved);
  }
  if (command === "backup" || command === "restore") {
    for (const warning of resolved.warnings) console.error(`warning: ${warning}`);
    return command === "backup"
      ? await runBackup(resolved.config, rest)
      : await runRestore(resolved.config, [...rest, ...commandFlags]);
  }
  if (command !== "serve" || rest.length > 0) {
    console.error(`unknown command: ${resolved.positionals.join(" ")}\nRun jim --help for usage.`);
    return 2;
  }
  for (const warning of resolved.warnings) console.error(`warning: ${warning}`);

  const workers = workerCount(resolved.config.workers);
  if (workers > 1) {
    const log = createLogger({
      level: resolved.config.logLevel,
      format: resolved.config.logFormat === "auto"
        ? (Deno.stderr.isTerminal() ? "text" : "json")
        : resolved.config.logFormat,
    });
    if (reusePortAvailable(resolved.config.host)) {
      return await runWorkers(resolved.config, workers, log, {
        reloadConfig: () => readConfigAgain(args, log),
      });
    }
    if (resolved.sources.workers !== "default") {
      console.error("jim: cannot start: --workers above 1 needs Deno's --unstable-net flag (SO_REUSEPORT)");
      return 1;
    }
    log.warn("server.single_worker", { reason: "one worker per core needs Deno's --unstable-net flag" });
  }

  let app;
  try {
    app = await createApp(resolved.config, {
      onFatal: () => Deno.exit(1),
    });
  } catch (err) {
    if (err instanceof AuthSetupError) {
      console.error(`jim: cannot start: ${err.message}`);
      return 1;
    }
    if (err instanceof DataDirLockedError) {
      console.error(`jim: cannot start: ${err.message}`);
      return 1;
    }
    console.error(
      `jim: cannot open the data dir ${resolved.config.dataDir}: ${err instanceof Error ? err.message : err}`,
    );
    return 1;
  }
  if (resolved.config.auth === "open") console.error(OPEN_MODE_BANNER);
  try {
    app.start();
  } catch (err) {
    app.log.error("server.start_failed", { error: err });
    await app.store.close();
    return 1;
  }
  const guardMs = resolved.config.shutdownTimeout * 1000 + STOP_GUARD_MS;
  const stopped = new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) {
        app.log.warn("server.signal", { signal, action: "dropping the remaining connections now" });
        app.hurry();
        return;
      }
      stopping = true;
      app.log.info("server.signal", { signal });
      // A store that does not close (a stuck worker) must not keep the process alive forever.
      const guard = setTimeout(() => {
        app.log.error("server.stop_stuck", { waitedMs: guardMs });
        Deno.exit(1);
      }, guardMs);
      Deno.unrefTimer(guard);
      app.stop().finally(resolve);
    };
    Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  });
  if (Deno.build.os !== "windows") {
    // SIGHUP: the config file (and the environment) again; flags stay as given. Reloads run one
    // after another; a configuration with problems changes nothing.
    let reloading = Promise.resolve();
    Deno.addSignalListener("SIGHUP", () => {
      app.log.info("server.signal", { signal: "SIGHUP" });
      reloading = reloading.then(() => reload(app, args)).catch((error) =>
        app.log.error("config.reload_failed", { error })
      );
    });
  }
  await stopped;
  return 0;
}

/** Time the store gets to close after --shutdown-timeout before the process exits anyway (code 1). */
const STOP_GUARD_MS = 5000;

async function reload(app: App, args: string[]): Promise<void> {
  const next = readConfigAgain(args, app.log);
  if (next) await app.reload(next);
}

/** SIGHUP: the configuration resolved again, or undefined (problems logged) to keep the running one. */
function readConfigAgain(args: string[], log: Logger): JimConfig | undefined {
  let next;
  try {
    next = resolveConfig(args, Deno.env.toObject(), readConfigFile);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    log.error("config.reload_failed", {
      problems: err.problems.map((p) => `${p.key}: ${p.message}`),
      kept: "the running configuration",
    });
    return undefined;
  }
  for (const warning of next.warnings) log.warn("config.warning", { warning });
  return next.config;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
