/**
 * The web chat page in headless Chromium: two browser users sign in and chat privately and in a
 * group, a J-IM TCP client joins the same group, a reload keeps the history, HTML in messages
 * stays text, and the one-pane phone layout works. Screenshots go to test-artifacts/.
 */
import assert from "node:assert/strict";
import { loggedInTcp, startServer, type TestServer } from "../_server.ts";
import type { JimClient, ReceivedPacket } from "../../src/client/jim_client.ts";
import { CMD } from "../../src/protocol/commands.ts";
import { ARTIFACTS, Browser, type Page, SKIP_BROWSER_TESTS } from "./_cdp.ts";
import {
  messages,
  openConversation,
  q,
  screenshotOnFailure,
  sendWithEnter,
  signIn,
  waitMessage,
  waitOnline,
  waitStatus,
} from "./_pages.ts";

/** The cmd 11 delivery to a J-IM client whose content is `content`. */
function chatWith(content: string): (p: ReceivedPacket) => boolean {
  return (p) => p.command === CMD.CHAT_REQ && (p.body.data as { content?: string })?.content === content;
}

async function joinOverTcp(server: TestServer, userId: string, groupId: string): Promise<JimClient> {
  const client = await loggedInTcp(server, userId);
  await client.send(CMD.JOIN_GROUP_REQ, { groupId });
  const joined = await client.next(
    (p) => p.command === CMD.JOIN_GROUP_NOTIFY && (p.body.user as { userId?: string })?.userId === userId,
  );
  assert.equal(joined.body.group, groupId);
  return client;
}

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

const INJECTION = "<img src=x onerror=alert(1)><b>bold</b>";

Deno.test({
  name: "browser: two users chat privately and in a group with a J-IM TCP client; reload keeps history",
  ignore: SKIP_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startServer();
    const browser = await Browser.launch();
    const pages: Page[] = [];
    try {
      await screenshotOnFailure("chat", () => pages, async () => {
        const url = `http://127.0.0.1:${server.port}/`;
        const alice = await browser.newPage(1200, 800);
        const bob = await browser.newPage(1200, 800);
        pages.push(alice, bob);
        // Dialogs would block the page: an alert() from injected markup must never run.
        let dialogs = 0;
        browser.on((method) => method === "Page.javascriptDialogOpening" && dialogs++);
        await Promise.all([alice.goto(url), bob.goto(url)]);
        await signIn(bob, "bob");
        await signIn(alice, "alice");

        // 1. A private chat: sent → unread at bob → read → a reply.
        await alice.type("#new-peer", "bob");
        await alice.click("#new-peer-open");
        await alice.waitFor(`document.querySelector("#chat-title").textContent === "bob"`);
        await sendWithEnter(alice, "hello bob");
        await waitStatus(alice, "hello bob", "sent");
        assert.equal(await alice.eval(`document.querySelector("#composer-input").value`), "");
        const convAtBob = `#conversations [data-conv="p:alice"]`;
        await bob.waitFor(
          `document.querySelector(${q(`${convAtBob} .unread`)})?.textContent === "1" &&
           !document.querySelector(${q(`${convAtBob} .unread`)}).hidden`,
          10_000,
          "unread 1 at bob",
        );
        assert.equal(await bob.text(`${convAtBob} .last`), "hello bob");
        await openConversation(bob, "p:alice");
        const atBob = await waitMessage(bob, "hello bob");
        assert.deepEqual([atBob.from, atBob.mine], ["alice", false]);
        await bob.waitFor(
          `document.querySelector(${q(`${convAtBob} .unread`)}).hidden`,
          10_000,
          "unread gone",
        );
        await waitStatus(alice, "hello bob", "read");
        await sendWithEnter(bob, "hi alice");
        await waitStatus(bob, "hi alice", "sent", "read");
        const atAlice = await waitMessage(alice, "hi alice");
        assert.deepEqual([atAlice.from, atAlice.mine], ["bob", false]);

        // 2. A group with a J-IM TCP client in it.
        await joinGroup(alice, "lobby");
        await joinGroup(bob, "lobby");
        const carol = await joinOverTcp(server, "carol", "lobby");
        await carol.send(CMD.CHAT_REQ, {
          chatType: 1,
          groupId: "lobby",
          from: "carol",
          msgType: 0,
          content: "hi from tcp",
          createTime: Date.now(),
        });
        const ack = await carol.next(CMD.CHAT_RESP);
        assert.equal(ack.body.code, 10000);
        for (const page of [alice, bob]) {
          const m = await waitMessage(page, "hi from tcp");
          assert.deepEqual([m.from, m.mine], ["carol", false]);
          assert.ok(await page.exists(`#message-list > .message.theirs[data-from="carol"]`));
        }
        await sendWithEnter(alice, "hi from the browser");
        await waitStatus(alice, "hi from the browser", "sent", "read");
        const atCarol = await carol.next(chatWith("hi from the browser"));
        assert.equal((atCarol.body.data as { from: string }).from, "alice");
        await waitMessage(bob, "hi from the browser");
        // bob has the lobby open: his read shows on alice's message.
        await alice.waitFor(
          `[...document.querySelectorAll("#message-list > .message.mine .read-by")]
            .some((e) => !e.hidden && e.textContent === "read by 1")`,
          10_000,
          "read by 1",
        );
        await sendWithEnter(bob, "welcome, carol");
        await waitMessage(alice, "welcome, carol");
        await carol.next(chatWith("welcome, carol"));
        await alice.eval(`document.activeElement?.blur()`);
        await alice.screenshot(`${ARTIFACTS}chat-desktop.png`);

        // 3. A reload signs in again with the token in sessionStorage and shows the history.
        await alice.reload();
        await waitOnline(alice, "alice");
        assert.ok(await alice.eval<boolean>(`document.querySelector("#login-view").hidden`));
        await openConversation(alice, "p:bob");
        await waitMessage(alice, "hi alice");
        assert.deepEqual(
          (await messages(alice)).map((m) => [m.from, m.content, m.mine]),
          [["alice", "hello bob", true], ["bob", "hi alice", false]],
        );
        await waitStatus(alice, "hello bob", "read");
        await openConversation(alice, "g:lobby");
        await waitMessage(alice, "welcome, carol");
        assert.deepEqual(
          (await messages(alice)).map((m) => [m.from, m.content]),
          [["carol", "hi from tcp"], ["alice", "hi from the browser"], ["bob", "welcome, carol"]],
        );

        // 4. Markup in a message is shown as text, never parsed.
        await openConversation(alice, "p:bob");
        await openConversation(bob, "p:alice");
        await sendWithEnter(bob, INJECTION);
        await waitStatus(bob, INJECTION, "sent", "read");
        const injected = await waitMessage(alice, INJECTION);
        assert.equal(injected.from, "bob");
        for (const page of [alice, bob]) {
          assert.equal(
            await page.eval(`document.querySelectorAll("#message-list img, #message-list b").length`),
            0,
          );
          assert.equal(
            await page.eval(`[...document.querySelectorAll("#message-list .content")].at(-1).textContent`),
            INJECTION,
          );
        }
        assert.equal(
          await alice.eval(
            `document.querySelector(${q(`#conversations [data-conv="p:bob"] .last`)}).textContent`,
          ),
          INJECTION,
        );
        assert.equal(dialogs, 0);
        assert.deepEqual(alice.errors, []);
        assert.deepEqual(bob.errors, []);
      });
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});

Deno.test({
  name: "browser: on a phone-sized screen one pane shows at a time; open, send, back",
  ignore: SKIP_BROWSER_TESTS,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const server = await startServer();
    const browser = await Browser.launch();
    const pages: Page[] = [];
    try {
      await screenshotOnFailure("chat-phone", () => pages, async () => {
        const alice = await loggedInTcp(server, "alice");
        const phone = await browser.newPage(390, 844);
        pages.push(phone);
        await phone.goto(`http://127.0.0.1:${server.port}/`);
        await signIn(phone, "dave");
        const visible = (selector: string) =>
          phone.eval<boolean>(`(() => {
            const e = document.querySelector(${q(selector)});
            return !!e && e.getClientRects().length > 0 && getComputedStyle(e).display !== "none";
          })()`);
        assert.equal(await visible("#sidebar"), true);
        assert.equal(await visible("#chat"), false);

        await alice.send(CMD.CHAT_REQ, {
          chatType: 2,
          from: "alice",
          to: "dave",
          msgType: 0,
          content: "dave, are you on your phone?",
          createTime: Date.now(),
        });
        assert.equal((await alice.next(CMD.CHAT_RESP)).body.code, 10000);
        await phone.waitFor(
          `document.querySelector(${q(`#conversations [data-conv="p:alice"] .unread`)})?.textContent === "1"`,
          10_000,
          "unread from alice",
        );
        await openConversation(phone, "p:alice");
        await phone.waitFor(`getComputedStyle(document.querySelector("#sidebar")).display === "none"`);
        assert.equal(await visible("#chat"), true);
        assert.equal(await visible("#back"), true);
        await waitMessage(phone, "dave, are you on your phone?");
        await sendWithEnter(phone, "yes, one pane at a time");
        await waitStatus(phone, "yes, one pane at a time", "sent");
        const reply = await alice.next(chatWith("yes, one pane at a time"));
        assert.equal((reply.body.data as { from: string }).from, "dave");
        // The whole layout fits the width: nothing scrolls sideways.
        assert.ok(await phone.eval<boolean>(`document.documentElement.scrollWidth <= innerWidth`));
        await phone.screenshot(`${ARTIFACTS}chat-phone.png`);

        await phone.click("#back");
        await phone.waitFor(`getComputedStyle(document.querySelector("#chat")).display === "none"`);
        assert.equal(await visible("#sidebar"), true);
        assert.equal(
          await phone.text(`#conversations [data-conv="p:alice"] .last`),
          "yes, one pane at a time",
        );
        assert.deepEqual(phone.errors, []);
      });
    } finally {
      await browser.close();
      await server.stop();
    }
  },
});
