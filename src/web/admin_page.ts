/**
 * The admin page served at `/admin` and its script at `/admin.js` (transport/admin_api.ts serves
 * both). Plain HTML, CSS and JavaScript, embedded so `deno compile` needs no files and no build
 * step. The page asks for the API token (kept in sessionStorage only), then polls
 * `/api/admin/*` every 2 s. Everything from the server is put in the page with textContent or
 * setAttribute, never parsed as HTML; the strict CSP below allows no inline script at all and
 * only this exact stylesheet.
 *
 * Stable selectors (the browser test depends on them): #admin-token, #admin-login, #admin-error;
 * #admin-protocols [data-protocol="tcp"|"ws"|"http"] (text: the count); #admin-online rows
 * [data-user] with a [data-kick] button; #admin-groups rows [data-group]; #admin-rates;
 * #admin-errors rows; #sys-target-type, #sys-target, #sys-content, #sys-send, #sys-result.
 */
import { createHash } from "node:crypto";

const ADMIN_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #fff; --fg: #1b1f24; --muted: #5b6470; --line: #d8dde3;
  --accent: #0b62c4; --accent-fg: #fff; --danger: #b42318; --ok: #12743a; --spark2: #b05d00;
  --focus: #0b62c4;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111418; --card: #1a1f25; --fg: #e6e9ed; --muted: #9aa4af; --line: #2e3640;
    --accent: #5aa2ff; --accent-fg: #0b1020; --danger: #ff8a80; --ok: #6fd693; --spark2: #ffb45c;
    --focus: #8cc0ff;
  }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background: var(--bg); color: var(--fg); }
header.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem;
  padding: .75rem 1rem; border-bottom: 1px solid var(--line); background: var(--card); }
header.top h1 { font-size: 1.2rem; margin: 0; }
header.top .meta { margin: 0; color: var(--muted); font-size: .9rem; flex: 1; }
main { max-width: 80rem; margin: 0 auto; padding: 1rem; }
.grid { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 28rem), 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem;
  min-width: 0; }
.card.wide { grid-column: 1 / -1; }
.card h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
.card h3 { font-size: 1rem; margin: .75rem 0 .25rem; }
.stats { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0; }
.stats div { min-width: 5.5rem; }
.stats dt { color: var(--muted); font-size: .85rem; }
.stats dd { margin: 0; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.id { overflow-wrap: anywhere; }
td.msg { overflow-wrap: anywhere; min-width: 10rem; }
[tabindex="-1"]:focus { outline: none; }
tr[data-group] { cursor: pointer; }
tr[data-group].selected { background: color-mix(in srgb, var(--accent) 14%, transparent); }
button, input, select, textarea { font: inherit; color: inherit; }
button { min-height: 2.25rem; padding: .25rem .8rem; border-radius: 6px; border: 1px solid var(--accent);
  background: var(--accent); color: var(--accent-fg); cursor: pointer; }
button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button.link { background: none; border: 0; padding: 0; min-height: 0; color: var(--accent);
  text-decoration: underline; text-align: left; overflow-wrap: anywhere; }
button:disabled { opacity: .5; cursor: default; }
input, select, textarea { min-height: 2.25rem; padding: .3rem .5rem; border: 1px solid var(--line);
  border-radius: 6px; background: var(--bg); max-width: 100%; }
textarea { width: 100%; min-height: 4.5rem; resize: vertical; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
label { display: block; font-size: .9rem; color: var(--muted); margin: .4rem 0 .15rem; }
.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
.row > div { flex: 1 1 10rem; min-width: 0; }
.row input { width: 100%; }
#admin-auth { max-width: 32rem; }
#admin-error { color: var(--danger); font-weight: 600; margin: 0 0 1rem; }
#admin-error:empty { display: none; }
.hint, .empty, .note { color: var(--muted); font-size: .85rem; margin: .4rem 0 0; }
.status { min-height: 1.3em; margin: .4rem 0 0; font-size: .9rem; }
.status.bad { color: var(--danger); }
.status.good { color: var(--ok); }
.badge { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: 999px;
  border: 1px solid currentColor; }
.badge.on { color: var(--ok); }
.badge.off { color: var(--muted); }
.sessions { margin: 0; padding: 0; list-style: none; color: var(--muted); font-size: .85rem; }
#admin-members-list { margin: .25rem 0 0; padding-left: 1.2rem; }
#admin-members-list li { margin: .15rem 0; overflow-wrap: anywhere; }
svg.spark { display: block; width: 100%; height: 70px; }
svg.spark .grid-line { stroke: var(--line); stroke-width: 1; }
svg.spark .msgs { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
svg.spark .logins { fill: none; stroke: var(--spark2); stroke-width: 1.5; stroke-dasharray: 4 3;
  vector-effect: non-scaling-stroke; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .85rem; color: var(--muted);
  margin: .25rem 0 .5rem; }
.legend .k1::before, .legend .k2::before { content: ""; display: inline-block; width: 1rem; height: 0;
  margin-right: .35rem; vertical-align: middle; border-top: 2px solid var(--accent); }
.legend .k2::before { border-top: 2px dashed var(--spark2); }
.pager { display: flex; gap: .5rem; margin-top: .5rem; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
@media (max-width: 40rem) {
  main { padding: .5rem; }
  .card { padding: .6rem .7rem; }
  th, td { padding: .3rem .35rem; }
}
`;

const styleHash = createHash("sha256").update(ADMIN_CSS).digest("base64");

/** No inline script, no other origin, no framing; only the stylesheet above (by its hash). */
export const ADMIN_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  `style-src 'sha256-${styleHash}'`,
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const ADMIN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>jim admin</title>
<style>${ADMIN_CSS}</style>
<script src="/admin.js" defer></script>
</head>
<body>
<header class="top">
  <h1>jim admin</h1>
  <p class="meta"><span id="admin-version"></span> <span id="admin-uptime"></span></p>
  <button id="admin-logout" class="secondary" type="button" hidden>Forget token</button>
</header>
<main>
<p id="admin-error" role="alert"></p>

<form id="admin-auth" class="card" hidden>
  <h2>Sign in</h2>
  <label for="admin-token">API token (<code>--api-token</code>)</label>
  <div class="row">
    <div><input id="admin-token" type="password" autocomplete="off" spellcheck="false" required></div>
    <button id="admin-login" type="submit">Sign in</button>
  </div>
  <p class="hint">Kept in this browser tab only (sessionStorage) and sent as a Bearer token.</p>
</form>

<p id="admin-loading" class="note">Loading…</p>

<div id="admin-dashboard" class="grid" hidden>
  <section class="card" aria-labelledby="h-conn">
    <h2 id="h-conn">Connections</h2>
    <dl id="admin-protocols" class="stats">
      <div><dt>TCP</dt><dd data-protocol="tcp">0</dd></div>
      <div><dt>WebSocket</dt><dd data-protocol="ws">0</dd></div>
      <div><dt>HTTP</dt><dd data-protocol="http">0</dd></div>
      <div><dt>Total</dt><dd id="admin-conn-total">0</dd></div>
      <div><dt>Online users</dt><dd id="admin-online-count">0</dd></div>
    </dl>
  </section>

  <section class="card" aria-labelledby="h-rates">
    <h2 id="h-rates">Activity, last 60 s</h2>
    <div id="admin-rates">
      <div id="admin-spark"></div>
      <p class="legend"><span class="k1" id="admin-rate-msgs">messages/s</span>
        <span class="k2" id="admin-rate-logins">logins/s</span></p>
      <dl id="admin-totals" class="stats">
        <div><dt>Messages stored</dt><dd data-total="messagesStored">0</dd></div>
        <div><dt>Deliveries</dt><dd data-total="deliveries">0</dd></div>
        <div><dt>Logins</dt><dd data-total="loginsOk">0</dd></div>
        <div><dt>Failed logins</dt><dd data-total="loginsFailed">0</dd></div>
        <div><dt>Errors</dt><dd data-total="errors">0</dd></div>
      </dl>
    </div>
  </section>

  <section class="card wide" aria-labelledby="h-online">
    <h2 id="h-online">Online users</h2>
    <div class="scroll">
      <table>
        <thead><tr><th scope="col">User</th><th scope="col">Nick</th><th scope="col">Sessions</th>
          <th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody id="admin-online"></tbody>
      </table>
    </div>
    <p id="admin-online-empty" class="empty">Nobody is online.</p>
    <p id="admin-online-more" class="note" hidden></p>
    <p id="admin-kick-result" class="status" role="status"></p>
  </section>

  <section class="card" aria-labelledby="h-groups">
    <h2 id="h-groups">Groups</h2>
    <div class="scroll">
      <table>
        <thead><tr><th scope="col">Group</th><th scope="col">Name</th><th scope="col" class="num">Members</th>
          <th scope="col" class="num">Online</th></tr></thead>
        <tbody id="admin-groups"></tbody>
      </table>
    </div>
    <p id="admin-groups-empty" class="empty">No groups yet.</p>
    <div class="pager">
      <button id="groups-first" class="secondary" type="button" disabled>First page</button>
      <button id="groups-next" class="secondary" type="button" disabled>Next page</button>
    </div>
    <div id="admin-members" hidden>
      <h3 id="admin-members-title" tabindex="-1"></h3>
      <p id="admin-members-note" class="note"></p>
      <ul id="admin-members-list"></ul>
      <button id="admin-members-close" class="secondary" type="button">Close members</button>
    </div>
  </section>

  <section class="card" aria-labelledby="h-sys">
    <h2 id="h-sys">Send a system message</h2>
    <form id="sys-form">
      <div class="row">
        <div>
          <label for="sys-target-type">To a</label>
          <select id="sys-target-type">
            <option value="user">user</option>
            <option value="group">group</option>
          </select>
        </div>
        <div>
          <label for="sys-target">User or group id</label>
          <input id="sys-target" autocomplete="off" spellcheck="false" required>
        </div>
      </div>
      <label for="sys-content">Message</label>
      <textarea id="sys-content" required></textarea>
      <div class="row"><button id="sys-send" type="submit">Send</button></div>
      <p id="sys-result" class="status" role="status"></p>
    </form>
  </section>

  <section class="card wide" aria-labelledby="h-errors">
    <h2 id="h-errors">Recent errors</h2>
    <div class="scroll">
      <table>
        <thead><tr><th scope="col">Time</th><th scope="col">Event</th><th scope="col">Code</th>
          <th scope="col">Message</th><th scope="col">User</th>
          <th scope="col" class="num">Session</th></tr></thead>
        <tbody id="admin-errors"></tbody>
      </table>
    </div>
    <p id="admin-errors-empty" class="empty">No errors since the server started.</p>
  </section>
</div>
</main>
</body>
</html>
`;

// Plain ES2017 with no template literals (this file embeds it in one), served as /admin.js.
export const ADMIN_JS = String.raw`"use strict";
(function () {
  var TOKEN_KEY = "jim.admin.token";
  var REFRESH_MS = 2000;
  var GROUPS_PAGE = 100;
  var SVG = "http://www.w3.org/2000/svg";

  var token = "";
  try { token = sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { token = ""; }
  var timer = 0;
  var running = false;
  // A refresh asked for while one runs (new token, other page): run again when it ends.
  var again = false;
  var stopped = false;
  var groupsAfter = "";
  var groupsNext = "";
  var selectedGroup = null;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function setText(node, text) {
    var t = String(text);
    if (node.textContent !== t) node.textContent = t;
  }
  function setStatus(node, text, good) {
    node.textContent = text;
    node.className = "status " + (text ? (good ? "good" : "bad") : "");
  }
  function setError(text) { setText($("admin-error"), text || ""); }

  async function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (token) headers["Authorization"] = "Bearer " + token;
    var init = { method: method, headers: headers, cache: "no-store", credentials: "omit" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var res = await fetch(path, init);
    var text = await res.text();
    var data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    return { status: res.status, ok: res.ok, data: data };
  }

  function errorText(r) {
    if (r.data && typeof r.data.error === "string") return r.data.error;
    if (r.data && typeof r.data.msg === "string") return r.data.msg + " (" + r.data.code + ")";
    return "HTTP " + r.status;
  }

  // 401/403: stop polling and say why. Returns true when the reply was one of those.
  function refused(r) {
    if (r.status === 401) {
      showAuth(token ? "The API token was refused." : "This server needs its API token.");
      return true;
    }
    if (r.status === 403) {
      stopped = true;
      $("admin-loading").hidden = true;
      setError("Refused: without --api-token the admin API only answers this server's own machine " +
        "(loopback).");
      return true;
    }
    return false;
  }

  function showAuth(message) {
    stopped = true;
    clearTimeout(timer);
    $("admin-loading").hidden = true;
    $("admin-dashboard").hidden = true;
    $("admin-logout").hidden = true;
    $("admin-auth").hidden = false;
    setError(message);
    $("admin-token").focus();
  }

  function showDashboard() {
    $("admin-loading").hidden = true;
    $("admin-auth").hidden = true;
    $("admin-dashboard").hidden = false;
    $("admin-logout").hidden = !token;
  }

  function schedule() {
    clearTimeout(timer);
    if (!stopped) timer = setTimeout(refresh, REFRESH_MS);
  }

  async function refresh() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    var used = token;
    var after = groupsAfter;
    // Answers to a request made with another token or page are dropped; the next run decides.
    var stale = function () { return used !== token || after !== groupsAfter; };
    try {
      if (document.hidden) return;
      var ov = await api("GET", "/api/admin/overview");
      if (stale() || refused(ov)) return;
      if (!ov.ok || !ov.data) throw new Error(errorText(ov));
      var gr = await api("GET", "/api/admin/groups?limit=" + GROUPS_PAGE + "&after=" +
        encodeURIComponent(after));
      if (stale() || refused(gr)) return;
      if (!gr.ok || !gr.data) throw new Error(errorText(gr));
      renderOverview(ov.data);
      renderGroups(gr.data);
      if (selectedGroup !== null) await loadMembers(selectedGroup, false);
      setError("");
      showDashboard();
    } catch (e) {
      if (!stale()) setError("Refresh failed: " + (e && e.message ? e.message : String(e)));
    } finally {
      running = false;
      if (again) refresh();
      else schedule();
    }
  }

  function formatUptime(s) {
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) return d + "d " + h + "h";
    if (h > 0) return h + "h " + m + "m";
    return m + "m " + (s % 60) + "s";
  }

  function renderOverview(d) {
    setText($("admin-version"), "v" + d.version);
    setText($("admin-uptime"), "· up " + formatUptime(d.uptimeSeconds || 0));
    var c = d.connections || {};
    ["tcp", "ws", "http"].forEach(function (p) {
      setText(document.querySelector('#admin-protocols [data-protocol="' + p + '"]'), c[p] || 0);
    });
    setText($("admin-conn-total"), c.total || 0);
    setText($("admin-online-count"), d.onlineUsers || 0);
    renderUsers(d.users || [], d.onlineUsers || 0);
    renderRates(d.rates || {}, d.totals || {});
    renderErrors(d.recentErrors || []);
  }

  // Updates rows in place (keyed by id), so focus and selection survive a refresh.
  function syncRows(tbody, items, keyAttr, keyOf, build, update) {
    var existing = new Map();
    Array.prototype.forEach.call(tbody.children, function (row) {
      existing.set(row.getAttribute(keyAttr), row);
    });
    items.forEach(function (item, i) {
      var key = keyOf(item);
      var row = existing.get(key);
      if (row) existing.delete(key);
      else { row = build(item); row.setAttribute(keyAttr, key); }
      update(row, item);
      if (tbody.children[i] !== row) tbody.insertBefore(row, tbody.children[i] || null);
    });
    existing.forEach(function (row) { row.remove(); });
  }

  function renderUsers(users, total) {
    syncRows($("admin-online"), users, "data-user", function (u) { return u.userId; }, function (u) {
      var tr = el("tr");
      tr.appendChild(el("td", u.userId, "id"));
      tr.appendChild(el("td", "", "id"));
      var td = el("td");
      td.appendChild(el("ul", null, "sessions"));
      tr.appendChild(td);
      var act = el("td");
      var btn = el("button", "Kick", "danger");
      btn.type = "button";
      btn.setAttribute("data-kick", u.userId);
      btn.setAttribute("aria-label", "Kick " + u.userId);
      act.appendChild(btn);
      tr.appendChild(act);
      return tr;
    }, function (tr, u) {
      setText(tr.children[1], u.nick || "");
      var list = tr.children[2].firstChild;
      var lines = (u.sessions || []).map(function (s) {
        return s.protocol + " " + s.remote + " since " + new Date(s.connectedAt).toLocaleTimeString();
      });
      if (list.textContent !== lines.join("")) {
        list.replaceChildren.apply(list, lines.map(function (t) { return el("li", t); }));
      }
    });
    $("admin-online-empty").hidden = users.length > 0;
    var more = $("admin-online-more");
    more.hidden = total <= users.length;
    setText(more, "Showing the first " + users.length + " of " + total + " online users.");
  }

  function renderGroups(d) {
    var groups = d.groups || [];
    groupsNext = d.next || "";
    syncRows($("admin-groups"), groups, "data-group", function (g) { return g.groupId; }, function (g) {
      var tr = el("tr");
      var td = el("td", null, "id");
      var btn = el("button", g.groupId, "link");
      btn.type = "button";
      btn.setAttribute("aria-label", "Show the members of group " + g.groupId);
      td.appendChild(btn);
      tr.appendChild(td);
      tr.appendChild(el("td", "", "id"));
      tr.appendChild(el("td", "", "num"));
      tr.appendChild(el("td", "", "num"));
      return tr;
    }, function (tr, g) {
      setText(tr.children[1], g.name || "");
      setText(tr.children[2], g.memberCount);
      setText(tr.children[3], g.onlineCount);
      tr.classList.toggle("selected", g.groupId === selectedGroup);
    });
    $("admin-groups-empty").hidden = groups.length > 0 || groupsAfter !== "";
    $("groups-next").disabled = !groupsNext;
    $("groups-first").disabled = groupsAfter === "";
  }

  async function loadMembers(groupId, focus) {
    var used = token;
    var r = await api("GET", "/api/admin/groups/members?groupId=" + encodeURIComponent(groupId));
    if (used !== token || selectedGroup !== groupId || refused(r)) return;
    var box = $("admin-members");
    box.hidden = false;
    setText($("admin-members-title"), "Members of " + groupId);
    var list = $("admin-members-list");
    if (!r.ok || !r.data) {
      setText($("admin-members-note"), errorText(r));
      list.replaceChildren();
      return;
    }
    var d = r.data;
    var members = d.members || [];
    setText($("admin-members-note"), members.length + " member" + (members.length === 1 ? "" : "s") +
      (d.truncated ? " shown (the first ones)" : "") + ", " + d.onlineCount + " online");
    list.replaceChildren.apply(list, members.map(function (m) {
      var li = el("li", m.userId + " ");
      li.setAttribute("data-member", m.userId);
      li.appendChild(el("span", m.online ? "online" : "offline", "badge " + (m.online ? "on" : "off")));
      return li;
    }));
    if (focus) $("admin-members-title").focus();
  }

  var spark = null;
  function buildSpark() {
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("class", "spark");
    svg.setAttribute("viewBox", "0 0 590 100");
    svg.setAttribute("preserveAspectRatio", "none");
    svg.setAttribute("role", "img");
    [0, 50, 100].forEach(function (y) {
      var line = document.createElementNS(SVG, "line");
      line.setAttribute("class", "grid-line");
      line.setAttribute("x1", "0"); line.setAttribute("x2", "590");
      var at = String(y === 100 ? 99.5 : y + 0.5);
      line.setAttribute("y1", at);
      line.setAttribute("y2", at);
      svg.appendChild(line);
    });
    var title = document.createElementNS(SVG, "title");
    var logins = document.createElementNS(SVG, "polyline");
    logins.setAttribute("class", "logins");
    var msgs = document.createElementNS(SVG, "polyline");
    msgs.setAttribute("class", "msgs");
    svg.appendChild(title);
    svg.appendChild(logins);
    svg.appendChild(msgs);
    $("admin-spark").appendChild(svg);
    spark = { svg: svg, title: title, msgs: msgs, logins: logins };
  }

  function points(series, max) {
    return series.map(function (v, i) {
      return (i * 10) + "," + (100 - (v / max) * 96 - 2).toFixed(1);
    }).join(" ");
  }

  function renderRates(rates, totals) {
    if (!spark) buildSpark();
    var m = rates.messagesPerSecond || [];
    var l = rates.loginsPerSecond || [];
    var max = Math.max(1, Math.max.apply(null, m.concat(l)));
    spark.msgs.setAttribute("points", points(m, max));
    spark.logins.setAttribute("points", points(l, max));
    var now = m.length ? m[m.length - 1] : 0;
    var peak = m.length ? Math.max.apply(null, m) : 0;
    var sum = m.reduce(function (a, b) { return a + b; }, 0);
    var loginSum = l.reduce(function (a, b) { return a + b; }, 0);
    var label = "Messages per second over the last 60 seconds: now " + now + ", peak " + peak +
      ", " + sum + " in total; " + loginSum + " logins. Scale: 0 to " + max + " per second.";
    spark.svg.setAttribute("aria-label", label);
    setText(spark.title, label);
    setText($("admin-rate-msgs"), "messages/s (now " + now + ", peak " + peak + ", scale " + max + ")");
    setText($("admin-rate-logins"), "logins/s (" + loginSum + " in 60 s)");
    Array.prototype.forEach.call(document.querySelectorAll("#admin-totals [data-total]"), function (dd) {
      setText(dd, totals[dd.getAttribute("data-total")] || 0);
    });
  }

  function renderErrors(errors) {
    var tbody = $("admin-errors");
    var key = JSON.stringify(errors);
    if (tbody.getAttribute("data-key") === key) return;
    tbody.setAttribute("data-key", key);
    tbody.replaceChildren.apply(tbody, errors.map(function (e) {
      var tr = el("tr");
      tr.appendChild(el("td", new Date(e.time).toLocaleTimeString()));
      tr.appendChild(el("td", e.event));
      var code = e.code !== undefined && e.code !== null ? String(e.code) : "";
      if (e.error) code = code ? code + " " + e.error : e.error;
      tr.appendChild(el("td", code));
      tr.appendChild(el("td", e.message, "msg"));
      tr.appendChild(el("td", e.userId || "", "id"));
      tr.appendChild(el("td", e.session !== undefined && e.session !== null ? e.session : "", "num"));
      return tr;
    }));
    $("admin-errors-empty").hidden = errors.length > 0;
  }

  async function kick(userId) {
    var out = $("admin-kick-result");
    setStatus(out, "Kicking " + userId + "…", true);
    try {
      var r = await api("POST", "/api/admin/kick", { userId: userId });
      if (refused(r)) return;
      if (!r.ok || !r.data) throw new Error(errorText(r));
      var n = r.data.closed;
      setStatus(out, "Closed " + n + " session" + (n === 1 ? "" : "s") + " of " + userId + ".", true);
    } catch (e) {
      setStatus(out, "Kick failed: " + (e && e.message ? e.message : String(e)), false);
    }
    refresh();
  }

  async function sendSystemMessage() {
    var out = $("sys-result");
    var type = $("sys-target-type").value;
    var target = $("sys-target").value.trim();
    var content = $("sys-content").value;
    if (!target) { setStatus(out, "Give a " + type + " id.", false); $("sys-target").focus(); return; }
    if (!content.trim()) { setStatus(out, "Write a message.", false); $("sys-content").focus(); return; }
    var body = { content: content };
    if (type === "group") body.groupId = target; else body.to = target;
    var btn = $("sys-send");
    btn.disabled = true;
    setStatus(out, "Sending…", true);
    try {
      var r = await api("POST", "/api/admin/message", body);
      if (refused(r)) return;
      if (!r.ok || !r.data) throw new Error(errorText(r));
      var code = r.data.code;
      setStatus(out, code === 10001
        ? "Stored for " + target + " (offline, delivered at next login)."
        : "Sent to " + type + " " + target + ".", true);
      $("sys-content").value = "";
    } catch (e) {
      setStatus(out, "Not sent: " + (e && e.message ? e.message : String(e)), false);
    } finally {
      btn.disabled = false;
    }
  }

  function start() {
    $("admin-auth").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = $("admin-token");
      token = input.value.trim();
      input.value = "";
      try {
        if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
      } catch (e) { /* storage unavailable: keep the token in memory only */ }
      stopped = false;
      setError("");
      refresh();
    });
    $("admin-logout").addEventListener("click", function () {
      token = "";
      try { sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* ignore */ }
      showAuth("");
    });
    $("admin-online").addEventListener("click", function (ev) {
      var btn = ev.target.closest("[data-kick]");
      if (btn) kick(btn.getAttribute("data-kick"));
    });
    $("admin-groups").addEventListener("click", function (ev) {
      var row = ev.target.closest("[data-group]");
      if (!row) return;
      selectedGroup = row.getAttribute("data-group");
      Array.prototype.forEach.call($("admin-groups").children, function (r) {
        r.classList.toggle("selected", r === row);
      });
      loadMembers(selectedGroup, true);
    });
    $("admin-members-close").addEventListener("click", function () {
      selectedGroup = null;
      $("admin-members").hidden = true;
      Array.prototype.forEach.call($("admin-groups").children, function (r) {
        r.classList.remove("selected");
      });
    });
    $("groups-next").addEventListener("click", function () {
      if (!groupsNext) return;
      groupsAfter = groupsNext;
      refresh();
    });
    $("groups-first").addEventListener("click", function () {
      groupsAfter = "";
      refresh();
    });
    $("sys-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      sendSystemMessage();
    });
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && !stopped) refresh();
    });
    refresh();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
`;
