/// <reference lib="dom" />
/**
 * The web app's entry (bundled into /app.js by scripts/build_web.ts): sign in and out. Signing in
 * with a password logs in with cmd 5 (the password never goes into a URL); the app then asks for
 * a token (cmd 21) that reconnects use and that survives a reload of the tab (sessionStorage).
 */
import { connect, JimError, type JimWsClient } from "../../client/ws_client.ts";
import { ChatController } from "./controller.ts";
import { byId, setText, show } from "./dom.ts";
import { clearListCaches } from "./render_list.ts";
import { AppState } from "./state.ts";
import { bindChatView, type ChatView, viewHooks } from "./views.ts";

const STORAGE_KEY = "jim.session";

interface Saved {
  userId: string;
  token: string;
}

type Login = { userId: string; password: string } | { userId: string; token: string };

const state = new AppState();
let active: { client: JimWsClient; controller: ChatController; view: ChatView } | undefined;

function wsBase(): string {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/`;
}

function load(): Saved | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    return typeof saved?.userId === "string" && typeof saved?.token === "string" ? saved : undefined;
  } catch {
    return undefined;
  }
}

function save(saved: Saved | undefined): void {
  try {
    if (saved) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(saved));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage disabled: the session just does not survive a reload.
  }
}

async function start(login: Login): Promise<void> {
  state.reset();
  state.me = login.userId;
  const client = connect(wsBase(), { login });
  const hooks = viewHooks(state);
  const controller = new ChatController(client, state, hooks);
  try {
    await client.loggedIn;
  } catch (err) {
    controller.dispose();
    await client.close();
    throw err;
  }
  try {
    const issued = await client.token();
    save({ userId: issued.userId, token: issued.token });
    client.setUrl(wsBase(), { token: issued.token, userId: issued.userId });
  } catch {
    // Reconnects keep using the credentials given.
  }
  client.on("loginFailed", () => signOut("Your session has ended. Please sign in again."));
  show(byId("login-view"), false);
  show(byId("app-view"), true);
  const view = bindChatView(controller, state);
  hooks.bind(view);
  active = { client, controller, view };
  (document.querySelector<HTMLElement>("#conversations [data-conv]") ?? byId("new-peer")).focus();
}

async function signOut(message = ""): Promise<void> {
  save(undefined);
  const current = active;
  active = undefined;
  if (current) {
    current.view.dispose();
    current.controller.dispose();
    await current.client.close();
  }
  state.reset();
  clearListCaches();
  show(byId("app-view"), false);
  show(byId("login-view"), true);
  showLoginError(message);
  byId("login-user").focus();
}

function showLoginError(text: string): void {
  const box = byId("login-error");
  setText(box, text);
  show(box, text !== "");
}

function loginErrorText(err: unknown): string {
  if (err instanceof JimError && err.code === 10008) {
    return "Sign-in failed: the password does not match this user ID, or this server does not accept new accounts.";
  }
  return "Could not reach the server. Check that jim is running, then try again.";
}

function init(): void {
  const form = byId<HTMLFormElement>("login-form");
  const user = byId<HTMLInputElement>("login-user");
  const password = byId<HTMLInputElement>("login-password");
  const submit = byId<HTMLButtonElement>("login-submit");

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const userId = user.value.trim();
    if (!userId || !password.value) {
      showLoginError("Enter a user ID and a password.");
      return;
    }
    submit.disabled = true;
    showLoginError("");
    setText(submit, "Signing in…");
    try {
      await start({ userId, password: password.value });
      password.value = "";
    } catch (err) {
      showLoginError(loginErrorText(err));
      password.focus();
    } finally {
      submit.disabled = false;
      setText(submit, "Sign in");
    }
  });
  byId("logout").addEventListener("click", () => signOut());

  const saved = load();
  if (!saved) {
    user.focus();
    return;
  }
  // A reload of a signed-in tab: sign in again with the token.
  submit.disabled = true;
  start({ userId: saved.userId, token: saved.token })
    .catch(() => {
      save(undefined);
      user.value = saved.userId;
      password.focus();
    })
    .finally(() => submit.disabled = false);
}

init();
