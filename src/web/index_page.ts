/**
 * The web chat page served at `/`: markup and styles. The behaviour is /app.js (src/web/app/,
 * bundled into generated/app_bundle.ts), so the page needs no inline script and is served with
 * a strict Content-Security-Policy. Everything is embedded: `deno compile` needs no asset files.
 *
 * The ids and classes below are the page's stable interface (browser tests rely on them).
 */

/** Content-Security-Policy of the page: only its own script, sockets to any ws:/wss: host. */
export const INDEX_CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

const STYLE = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --panel: #ffffff; --fg: #1b1e23; --muted: #5d6470; --border: #d5d9e0;
  --accent: #1f5fd1; --accent-fg: #ffffff; --mine: #dbe7ff; --theirs: #ffffff; --danger: #b3261e;
  --hover: #eef1f6; --focus: #1f5fd1; --highlight: #fff3b0;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15171b; --panel: #1e2127; --fg: #e8eaee; --muted: #a3aab6; --border: #363b45;
    --accent: #7aa7ff; --accent-fg: #0b1220; --mine: #24395f; --theirs: #262a31; --danger: #ff8a80;
    --hover: #2a2e36; --focus: #9dbdff; --highlight: #5a4d12;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html, body { height: 100%; margin: 0; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
button:disabled { cursor: default; opacity: .6; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
input, textarea { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: .45rem .6rem; min-width: 0; }
.btn { background: var(--accent); color: var(--accent-fg); border: 0; border-radius: 6px; padding: .45rem .85rem; font-weight: 600; }
.btn-quiet { background: transparent; border: 1px solid var(--border); border-radius: 6px; padding: .3rem .7rem; }
h2 { font-size: .8rem; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); margin: 1rem 0 .4rem; }
ul { list-style: none; margin: 0; padding: 0; }

/* sign in */
#login-view { min-height: 100%; display: grid; place-items: center; padding: 1rem; }
#login-form { width: min(24rem, 100%); background: var(--panel); border: 1px solid var(--border); border-radius: 12px; padding: 1.5rem; display: grid; gap: .5rem; }
#login-form h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
#login-form label { font-weight: 600; margin-top: .4rem; }
#login-form .hint { color: var(--muted); font-size: .9rem; margin: .25rem 0 .5rem; }
#login-error { color: var(--danger); margin: .25rem 0 0; }

/* signed in */
#app-view { height: 100vh; height: 100dvh; display: grid; grid-template-rows: auto 1fr; }
.topbar { display: flex; align-items: center; gap: .75rem; padding: .5rem 1rem; background: var(--panel); border-bottom: 1px solid var(--border); }
.topbar .brand { font-weight: 700; margin-right: auto; }
#me { font-weight: 600; }
.who { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; min-width: 0; }
#logout, #connection-status { white-space: nowrap; }
#connection-status { font-size: .85rem; padding: .1rem .55rem; border-radius: 999px; border: 1px solid var(--border); }
#connection-status[data-status="online"] { color: #1e7d32; border-color: currentColor; }
#connection-status[data-status="reconnecting"] { color: #a15c00; border-color: currentColor; }
#connection-status[data-status="offline"] { color: var(--danger); border-color: currentColor; }
@media (prefers-color-scheme: dark) {
  #connection-status[data-status="online"] { color: #7bd88f; }
  #connection-status[data-status="reconnecting"] { color: #ffc266; }
}
.panes { display: grid; grid-template-columns: minmax(16rem, 22rem) 1fr; min-height: 0; }
#sidebar { overflow-y: auto; padding: .75rem 1rem 1.5rem; border-right: 1px solid var(--border); background: var(--panel); }
.inline-form { display: flex; gap: .4rem; margin: .35rem 0; }
.inline-form input { flex: 1; }
#notice { min-height: 1.2em; color: var(--danger); font-size: .9rem; margin: .25rem 0; }
#search-box { border: 1px solid var(--border); border-radius: 8px; padding: .5rem; margin: .5rem 0; }
#search-summary { margin: 0 0 .4rem; font-size: .9rem; color: var(--muted); }
.conv, .user, .result { width: 100%; text-align: left; background: transparent; border: 0; border-radius: 8px; padding: .5rem .6rem; display: grid; }
.conv:hover, .user:hover, .result:hover { background: var(--hover); }
.conv { grid-template-columns: 1fr auto; grid-template-areas: "name time" "preview unread"; gap: 0 .5rem; }
.conv[aria-current="true"] { background: var(--mine); }
.conv .name { grid-area: name; font-weight: 600; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.conv.group .name::before { content: "#"; color: var(--muted); }
.conv .time { grid-area: time; font-size: .8rem; color: var(--muted); }
.conv .preview { grid-area: preview; color: var(--muted); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-size: .9rem; }
.conv .unread { grid-area: unread; background: var(--accent); color: var(--accent-fg); border-radius: 999px; min-width: 1.4rem; padding: 0 .4rem; text-align: center; font-size: .8rem; font-weight: 700; align-self: center; }
.empty { color: var(--muted); font-size: .9rem; }
.user { grid-template-columns: auto 1fr auto; align-items: center; gap: .5rem; }
.user .dot { width: .55rem; height: .55rem; border-radius: 50%; background: #2e9d48; }
.user .you { color: var(--muted); }
.result { grid-template-columns: 1fr auto; gap: 0 .5rem; }
.result-conv { font-weight: 600; }
.result-time { font-size: .8rem; color: var(--muted); }
.result-text { grid-column: 1 / -1; color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }

/* chat */
#chat { display: grid; grid-template-rows: auto 1fr auto auto auto; min-height: 0; min-width: 0; }
.chat-head { display: flex; align-items: center; gap: .6rem; padding: .55rem 1rem; border-bottom: 1px solid var(--border); background: var(--panel); }
#chat-title { font-size: 1.05rem; margin: 0; overflow-wrap: anywhere; text-transform: none; letter-spacing: normal; color: var(--fg); }
#chat-subtitle { color: var(--muted); font-size: .85rem; }
#back { display: none; }
#messages { overflow-y: auto; padding: .75rem 1rem; display: flex; flex-direction: column; gap: .5rem; }
#load-older { align-self: center; }
#chat-empty { color: var(--muted); text-align: center; margin: auto; max-width: 22rem; }
#message-list { display: flex; flex-direction: column; gap: .45rem; }
.message { max-width: min(40rem, 85%); align-self: flex-start; background: var(--theirs); border: 1px solid var(--border); border-radius: 10px; padding: .4rem .65rem; }
.message.mine { align-self: flex-end; background: var(--mine); }
.message.highlight { background: var(--highlight); }
.message .head { display: flex; gap: .6rem; font-size: .8rem; color: var(--muted); }
.message .from { font-weight: 600; }
.message .content { white-space: pre-wrap; overflow-wrap: anywhere; }
.message.recalled .content { font-style: italic; color: var(--muted); }
.message .meta { display: flex; justify-content: flex-end; align-items: center; gap: .5rem; font-size: .78rem; color: var(--muted); }
.message .meta:empty { display: none; }
.message.failed .status { color: var(--danger); font-weight: 600; }
.message .meta button { background: transparent; border: 1px solid var(--border); border-radius: 5px; padding: 0 .45rem; font-size: .78rem; }
#typing { min-height: 1.4em; padding: 0 1rem; font-size: .85rem; color: var(--muted); font-style: italic; }
#composer { display: flex; gap: .5rem; padding: .6rem 1rem .4rem; border-top: 1px solid var(--border); background: var(--panel); align-items: flex-end; }
#composer-input { flex: 1; resize: none; max-height: 10rem; min-height: 2.5rem; }
.composer-hint { font-size: .75rem; color: var(--muted); margin: 0; padding: 0 1rem .45rem; background: var(--panel); }

/* one pane at a time on narrow screens */
@media (max-width: 720px) {
  .panes { grid-template-columns: 1fr; }
  #sidebar { border-right: 0; }
  #app-view:not(.show-chat) #chat { display: none; }
  #app-view.show-chat #sidebar { display: none; }
  #back { display: inline-block; }
  .topbar { padding: .45rem .75rem; gap: .5rem; }
  .who-label { display: none; }
  .message { max-width: 92%; }
  .composer-hint { display: none; }
  #composer { padding-bottom: .7rem; }
}
`;

export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>jim chat</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
<script type="module" src="/app.js"></script>
</head>
<body>
<noscript><p>jim's chat needs JavaScript. The server also speaks J-IM TCP, WebSocket and HTTP on this port.</p></noscript>

<main id="login-view">
  <form id="login-form" novalidate>
    <h1>jim</h1>
    <p class="hint">Sign in to chat. New here? Pick a user ID and a password: your first sign-in
      creates the account (when this server allows registration).</p>
    <label for="login-user">User ID</label>
    <input id="login-user" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="128" required>
    <label for="login-password">Password</label>
    <input id="login-password" name="password" type="password" autocomplete="current-password" required>
    <button id="login-submit" class="btn" type="submit">Sign in</button>
    <p id="login-error" role="alert" hidden></p>
  </form>
</main>

<div id="app-view" hidden>
  <header class="topbar">
    <span class="brand">jim</span>
    <span class="who"><span class="who-label">Signed in as </span><span id="me"></span></span>
    <span class="sr-only">Connection:</span>
    <span id="connection-status" role="status" data-status="offline">offline</span>
    <button id="logout" class="btn-quiet" type="button">Sign out</button>
  </header>
  <div class="panes">
    <nav id="sidebar" aria-label="Conversations and people">
      <form id="search-form" class="inline-form" role="search">
        <label for="search-input" class="sr-only">Search messages</label>
        <input id="search-input" type="search" placeholder="Search messages" maxlength="256">
        <button id="search-submit" class="btn-quiet" type="submit">Search</button>
      </form>
      <section id="search-box" aria-label="Search results" hidden>
        <p id="search-summary" aria-live="polite"></p>
        <ul id="search-results"></ul>
        <button id="search-clear" class="btn-quiet" type="button">Clear search</button>
      </section>
      <form id="new-peer-form" class="inline-form">
        <label for="new-peer" class="sr-only">Chat with user ID</label>
        <input id="new-peer" placeholder="Chat with user ID" autocapitalize="none" spellcheck="false" maxlength="128">
        <button id="new-peer-open" class="btn-quiet" type="submit">Open</button>
      </form>
      <form id="join-group-form" class="inline-form">
        <label for="join-group" class="sr-only">Join group (ID)</label>
        <input id="join-group" placeholder="Join group (ID)" autocapitalize="none" spellcheck="false" maxlength="128">
        <button id="join-group-submit" class="btn-quiet" type="submit">Join</button>
      </form>
      <p id="notice" role="status" aria-live="polite"></p>
      <h2 id="conversations-heading">Conversations</h2>
      <ul id="conversations" aria-labelledby="conversations-heading"></ul>
      <p id="conversations-empty" class="empty">No conversations yet: open a chat with a user ID or join a group.</p>
      <h2 id="online-heading">Online</h2>
      <ul id="online-users" aria-labelledby="online-heading"></ul>
      <p id="online-empty" class="empty">Members of your groups who are online show up here.</p>
    </nav>
    <section id="chat" aria-labelledby="chat-title">
      <header class="chat-head">
        <button id="back" class="btn-quiet" type="button" aria-label="Back to conversations">&larr; Back</button>
        <div>
          <h2 id="chat-title" class="chat-title">No conversation open</h2>
          <span id="chat-subtitle"></span>
        </div>
      </header>
      <div id="messages" tabindex="0" aria-label="Messages">
        <button id="load-older" class="btn-quiet" type="button" hidden>Load older messages</button>
        <p id="chat-empty">Pick a conversation, open a chat with a user ID, or join a group.</p>
        <div id="message-list" role="log" aria-live="polite"></div>
      </div>
      <div id="typing" aria-live="polite"></div>
      <form id="composer">
        <label for="composer-input" class="sr-only">Message</label>
        <textarea id="composer-input" rows="1" placeholder="Message" maxlength="20000" disabled></textarea>
        <button id="composer-send" class="btn" type="submit" disabled>Send</button>
      </form>
      <p class="composer-hint">Enter sends · Shift+Enter adds a new line</p>
    </section>
  </div>
</div>
</body>
</html>
`;
