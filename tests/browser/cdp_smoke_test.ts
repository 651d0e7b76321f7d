/** The DevTools harness itself: Chromium starts, loads jim's page, evaluates and screenshots. */
import assert from "node:assert/strict";
import { startServer } from "../_server.ts";
import { ARTIFACTS, Browser, SKIP_BROWSER_TESTS } from "./_cdp.ts";

Deno.test({
  name: "browser harness: headless Chromium loads jim's page over the DevTools protocol",
  ignore: SKIP_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startServer();
    const browser = await Browser.launch();
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.port}/`);
      assert.equal(await page.eval("document.readyState"), "complete");
      assert.ok((await page.eval<string>("document.title")).length > 0);
      await page.screenshot(`${ARTIFACTS}harness.png`);
      assert.ok(Deno.statSync(`${ARTIFACTS}harness.png`).size > 1000);
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
