import assert from "node:assert/strict";
import { applyLive, diffConfig } from "./reload.ts";
import { defaultConfig } from "./schema.ts";

Deno.test("diffConfig() sorts changed options into live ones and ones that need a restart", () => {
  const current = defaultConfig();
  const next = { ...defaultConfig(), logLevel: "debug" as const, ratePerConnection: 5, port: 9999 };
  assert.deepEqual(diffConfig(current, next), { live: ["logLevel", "ratePerConnection"], restart: ["port"] });
  assert.deepEqual(diffConfig(current, defaultConfig()), { live: [], restart: [] });
});

Deno.test("diffConfig() compares lists by value", () => {
  const current = { ...defaultConfig(), allowedOrigins: ["https://a.example"] };
  assert.deepEqual(diffConfig(current, { ...current, allowedOrigins: ["https://a.example"] }).live, []);
  assert.deepEqual(diffConfig(current, { ...current, allowedOrigins: ["https://b.example"] }).live, [
    "allowedOrigins",
  ]);
});

Deno.test("diffConfig() reloads TLS files only while TLS stays on", () => {
  const tls = { ...defaultConfig(), tlsCert: "/a/cert.pem", tlsKey: "/a/key.pem" };
  const moved = { ...tls, tlsCert: "/b/cert.pem", tlsKey: "/b/key.pem" };
  assert.deepEqual(diffConfig(tls, moved), { live: ["tlsCert", "tlsKey"], restart: [] });
  assert.deepEqual(diffConfig(defaultConfig(), tls), { live: [], restart: ["tlsCert", "tlsKey"] });
  assert.deepEqual(diffConfig(tls, defaultConfig()), { live: [], restart: ["tlsCert", "tlsKey"] });
});

Deno.test("applyLive() takes only the live options of the new configuration", () => {
  const current = defaultConfig();
  const next = { ...defaultConfig(), logLevel: "debug" as const, port: 9999 };
  const applied = applyLive(current, next, ["logLevel"]);
  assert.equal(applied.logLevel, "debug");
  assert.equal(applied.port, current.port);
  assert.equal(current.logLevel, "info");
});
