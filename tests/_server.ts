/** Test helpers: an in-process jim on a random port with a fresh data dir, and client shortcuts. */
import { type App, createApp } from "../src/app.ts";
import { defaultConfig, type JimConfig } from "../src/config/schema.ts";
import { JimClient } from "../src/client/jim_client.ts";
import { createLogger } from "../src/log.ts";

export interface TestServer {
  app: App;
  port: number;
  dataDir: string;
  tcp(): Promise<JimClient>;
  ws(path?: string): Promise<JimClient>;
  /** Stops the server; keeps the data dir unless `cleanup`. */
  stop(cleanup?: boolean): Promise<void>;
}

export async function startServer(overrides: Partial<JimConfig> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? await Deno.makeTempDir({ prefix: "jim-test-" });
  const config: JimConfig = {
    ...defaultConfig(),
    host: "127.0.0.1",
    port: 0,
    passwordIterations: 1000,
    ...overrides,
    dataDir,
  };
  const log = createLogger({
    level: (Deno.env.get("JIM_TEST_LOG") as "debug" | undefined) ?? "error",
    format: "text",
  });
  const app = await createApp(config, { log });
  app.start();
  const port = app.addrs.main.port;
  const clients: JimClient[] = [];
  return {
    app,
    port,
    dataDir,
    async tcp() {
      const c = await JimClient.connectTcp({ port });
      clients.push(c);
      return c;
    },
    async ws(path = "/") {
      const c = await JimClient.connectWs({ port, path });
      clients.push(c);
      return c;
    },
    async stop(cleanup = true) {
      for (const c of clients) c.close();
      await app.stop();
      if (cleanup) await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** Connects over TCP and logs in (registering on first use); asserts the 10007 reply. */
export async function loggedInTcp(server: TestServer, userId: string, password = "pw"): Promise<JimClient> {
  const c = await server.tcp();
  const reply = await c.login(userId, password);
  if (reply.body.code !== 10007) throw new Error(`login of ${userId} failed: ${JSON.stringify(reply.body)}`);
  return c;
}

/** Connects over WebSocket with J-IM's query login; waits for the 10007 reply. */
export async function loggedInWs(server: TestServer, userId: string, password = "pw"): Promise<JimClient> {
  const c = await server.ws(
    `/?username=${encodeURIComponent(userId)}&password=${encodeURIComponent(password)}`,
  );
  const reply = await c.next(6);
  if (reply.body.code !== 10007) throw new Error(`login of ${userId} failed: ${JSON.stringify(reply.body)}`);
  return c;
}

export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
