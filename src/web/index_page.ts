/**
 * The page served at `/`. A placeholder until the web client lands (a later issue): it says
 * what this server is and how to connect, and is embedded so `deno compile` needs no files.
 */
export const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jim</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  code { background: #8882; padding: 0 .25em; border-radius: 3px; }
  @media (prefers-color-scheme: dark) { body { background: #111; color: #eee; } }
</style>
</head>
<body>
<h1>jim is running</h1>
<p>A J-IM-compatible instant-messaging server. This port speaks the J-IM TCP protocol,
WebSocket and HTTP.</p>
<ul>
  <li>WebSocket: <code>ws://HOST:PORT/?username=USER&amp;password=PASSWORD</code></li>
  <li>J-IM TCP: frames starting with byte <code>0x01</code> on this same port</li>
  <li>HTTP API: <code>/api/message/send</code>, <code>/api/user/online</code>, <code>/api/user/close</code></li>
</ul>
</body>
</html>
`;
