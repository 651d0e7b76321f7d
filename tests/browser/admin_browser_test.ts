/**
 * The admin page in headless Chromium: sign in with the API token, see who is online (by
 * protocol) and the groups, kick a browser user (the chat page goes offline for good, close code
 * 4001) and send a system message that shows up in a chat page. Screenshot: test-artifacts/admin.png.
 */
import assert from "node:assert/strict";
import { loggedInTcp, startServer } from "../_server.ts";
import { CMD } from "../../src/protocol/commands.ts";
import { KICKED_NOTICE } from "../../src/web/app/controller.ts";
import { ARTIFACTS, Browser, type Page, SKIP_BROWSER_TESTS } from "./_cdp.ts";
import { q, screenshotOnFailure, signIn, until, waitMessage } from "./_pages.ts";

const TOKEN = "browser-test-admin-token-0123456789";

async function joinGroup(page: Page, groupId: string): Promise<void> {
  await page.type("#join-group", groupId);
  await page.click("#join-group-submit");
  await page.waitFor(
    `document.querySelector(${
      q(`#conversations [data-conv="g:${groupId}"]`)
    })?.getAttribute("aria-current") === "true"`,
    10_000,
    `group ${groupId} open`,
  );
}

Deno.test({
  name: "browser: the admin page lists users and groups, kicks a user offline and sends a system message",
  ignore: SKIP_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startServer({ apiToken: TOKEN });
    const browser = await Browser.launch();
    const pages: Page[] = [];
    try {
      await screenshotOnFailure("admin", () => pages, async () => {
        const url = `http://127.0.0.1:${server.port}`;
        const alice = await browser.newPage(1200, 800);
        const bob = await browser.newPage(1200, 800);
        const admin = await browser.newPage(1200, 800);
        pages.push(alice, bob, admin);
        await Promise.all([alice.goto(`${url}/`), bob.goto(`${url}/`)]);
        await signIn(alice, "alice");
        await signIn(bob, "bob");
        await joinGroup(alice, "lobby");
        await joinGroup(bob, "lobby");
        // A J-IM TCP client too, so the page shows more than one protocol.
        const carol = await loggedInTcp(server, "carol");
        await carol.send(CMD.JOIN_GROUP_REQ, { groupId: "lobby" });
        await carol.next(CMD.JOIN_GROUP_NOTIFY);
        await carol.send(CMD.CHAT_REQ, {
          chatType: 1,
          groupId: "lobby",
          from: "carol",
          msgType: 0,
          content: "morning all",
          createTime: Date.now(),
        });
        await waitMessage(alice, "morning all");

        // Sign in with the token.
        await admin.goto(`${url}/admin`);
        await admin.waitFor(`!document.querySelector("#admin-auth").hidden`, 10_000, "the token form");
        await admin.type("#admin-token", "wrong-token");
        await admin.click("#admin-login");
        await admin.waitFor(
          `document.querySelector("#admin-error").textContent.includes("refused")`,
          10_000,
          "a refused token",
        );
        await admin.type("#admin-token", TOKEN);
        await admin.click("#admin-login");
        await admin.waitFor(`!document.querySelector("#admin-dashboard").hidden`, 10_000, "the dashboard");
        assert.equal(await admin.eval(`document.querySelector("#admin-error").textContent`), "");

        // Who is online, by protocol, and the groups.
        for (const user of ["alice", "bob", "carol"]) {
          await admin.waitFor(`!!document.querySelector(${q(`#admin-online tr[data-user="${user}"]`)})`);
          assert.ok(await admin.exists(`#admin-online tr[data-user="${user}"] button[data-kick="${user}"]`));
        }
        const count = (p: string) =>
          `Number(document.querySelector('#admin-protocols dd[data-protocol="${p}"]').textContent)`;
        assert.ok(await admin.eval<number>(count("ws")) >= 2);
        assert.ok(await admin.eval<number>(count("tcp")) >= 1);
        await admin.waitFor(`!!document.querySelector('#admin-groups tr[data-group="lobby"]')`);
        assert.equal(
          await admin.eval(
            `document.querySelector('#admin-groups tr[data-group="lobby"]').children[2].textContent`,
          ),
          "3",
        );
        assert.ok(await admin.exists("#admin-rates svg"));
        assert.ok(await admin.exists("#admin-errors"));
        await admin.screenshot(`${ARTIFACTS}admin.png`);

        // Kick bob: his sessions end, his page goes offline and stays offline.
        await admin.click(`[data-kick="bob"]`);
        await until("bob has no session", () => server.app.services.registry.sessionsOf("bob").size === 0);
        await bob.waitFor(
          `document.querySelector("#connection-status").textContent === "offline"`,
          10_000,
          "bob offline",
        );
        assert.equal(await bob.text("#notice"), KICKED_NOTICE);
        await bob.screenshot(`${ARTIFACTS}chat-kicked.png`);
        await admin.waitFor(
          `document.querySelector("#admin-kick-result").textContent.includes("Closed 1 session of bob")`,
        );
        await admin.waitFor(
          `!document.querySelector('#admin-online tr[data-user="bob"]')`,
          10_000,
          "bob gone",
        );
        assert.ok(await admin.exists(`#admin-online tr[data-user="alice"]`));

        // A system message to the group, from the admin form, reaches alice's open lobby.
        await admin.eval(`(() => {
          const select = document.querySelector("#sys-target-type");
          select.value = "group";
          select.dispatchEvent(new Event("change", { bubbles: true }));
        })()`);
        await admin.type("#sys-target", "lobby");
        await admin.type("#sys-content", "maintenance at noon");
        await admin.click("#sys-send");
        await admin.waitFor(`document.querySelector("#sys-result").textContent === "Sent to group lobby."`);
        const system = await waitMessage(alice, "maintenance at noon");
        assert.equal(system.mine, false);
        await alice.screenshot(`${ARTIFACTS}chat-system-message.png`);
        const atCarol = await carol.next(
          (p) =>
            p.command === CMD.CHAT_REQ &&
            (p.body.data as { content?: string }).content === "maintenance at noon",
        );
        assert.equal((atCarol.body.data as { groupId: string }).groupId, "lobby");

        // bob did not come back on his own while all that happened.
        assert.equal(server.app.services.registry.isOnline("bob"), false);
        assert.equal(await bob.eval(`document.querySelector("#connection-status").textContent`), "offline");
        for (const page of pages) assert.deepEqual(page.errors, []);
      });
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
