/** The page at `/` and the script at `/app.js`: headers, CSP, and the ids browser tests use. */
import assert from "node:assert/strict";
import { startServer } from "../../tests/_server.ts";
import { APP_JS } from "./generated/app_bundle.ts";
import { INDEX_CSP, INDEX_HTML } from "./index_page.ts";

/** The page's stable selectors (ids); classes and data attributes are made by the app. */
const IDS = [
  "login-user",
  "login-password",
  "login-submit",
  "login-error",
  "me",
  "connection-status",
  "conversations",
  "new-peer",
  "new-peer-open",
  "join-group",
  "join-group-submit",
  "online-users",
  "messages",
  "load-older",
  "composer-input",
  "composer-send",
  "typing",
  "search-input",
  "search-submit",
  "search-results",
  "logout",
];

Deno.test("index page: every stable id exists once, labels point at inputs, no inline script", () => {
  for (const id of IDS) {
    const count = INDEX_HTML.split(`id="${id}"`).length - 1;
    assert.equal(count, 1, `#${id} appears ${count} times`);
  }
  for (
    const input of [
      "login-user",
      "login-password",
      "new-peer",
      "join-group",
      "search-input",
      "composer-input",
    ]
  ) {
    assert.ok(INDEX_HTML.includes(`<label for="${input}"`), `#${input} has no label`);
  }
  const scripts = [...INDEX_HTML.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
  assert.equal(scripts.length, 1);
  assert.match(scripts[0][1], /src="\/app\.js"/);
  assert.equal(scripts[0][2].trim(), "");
  assert.ok(!/\son[a-z]+=/i.test(INDEX_HTML), "inline event handlers are blocked by the CSP");
});

Deno.test("index page: / is served with the CSP, /app.js as JavaScript", async () => {
  const server = await startServer();
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("content-security-policy"), INDEX_CSP);
    assert.equal(await page.text(), INDEX_HTML);
    assert.match(INDEX_CSP, /default-src 'self'/);
    assert.ok(!INDEX_CSP.includes("script-src"), "scripts fall back to default-src 'self'");

    const script = await fetch(`${base}/app.js`);
    assert.equal(script.status, 200);
    assert.equal(script.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(await script.text(), APP_JS);

    const post = await fetch(`${base}/app.js`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    await post.body?.cancel();
  } finally {
    await server.stop();
  }
});
