// The JS baseline of issue 18: what a capable Cloudflare user would write
// instead of this project. WebCrypto HMAC-SHA256 over the raw body, one
// JSON.parse, one prepared D1 insert; 200, or 401 on a bad signature.
// `make bench` runs it beside the Rust worker under the same wrangler.

const enc = new TextEncoder();
const dec = new TextDecoder();

// Imported once per isolate (per secret): importKey is the costly part of
// a WebCrypto HMAC, so a capable user would not redo it per request.
const keys = new Map();
function hmacKey(secret) {
  let k = keys.get(secret);
  if (!k) {
    k = crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    keys.set(secret, k);
  }
  return k;
}

// Lowercase or uppercase hex to bytes; null when it is not 64 hex digits.
function unhex(s) {
  if (!s || s.length !== 64) return null;
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    const b = parseInt(s.substr(i * 2, 2), 16);
    if (Number.isNaN(b)) return null;
    out[i] = b;
  }
  return out;
}

// subtle.verify compares in constant time.
async function verified(secret, sigHex, body) {
  const sig = unhex(sigHex);
  if (!secret || !sig) return false;
  return crypto.subtle.verify("HMAC", await hmacKey(secret), sig, body);
}

let insert = null;
function insertStmt(db) {
  insert ??= db.prepare(
    "INSERT OR IGNORE INTO webhook_events (delivery, source, kind, action, object_id, title, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  return insert;
}

const text = (status, body) => new Response(body, { status, headers: { "content-type": "text/plain" } });

async function sentry(request, env) {
  const body = await request.arrayBuffer();
  if (!(await verified(env.SENTRY_CLIENT_SECRET, request.headers.get("sentry-hook-signature"), body))) {
    return text(401, "bad signature");
  }
  let p;
  try {
    p = JSON.parse(dec.decode(body));
  } catch {
    return text(400, "not JSON");
  }
  const kind = request.headers.get("sentry-hook-resource") ?? "";
  const data = p?.data ?? {};
  const obj = data.issue ?? data.error ?? data.event ?? {};
  const delivery = request.headers.get("request-id") ?? crypto.randomUUID();
  await insertStmt(env.DB)
    .bind(delivery, "sentry", kind, String(p?.action ?? ""), String(obj.id ?? obj.event_id ?? ""), String(obj.title ?? ""), Date.now())
    .run();
  return text(200, "ok");
}

async function github(request, env) {
  const body = await request.arrayBuffer();
  const sig = request.headers.get("x-hub-signature-256") ?? "";
  if (!sig.startsWith("sha256=") || !(await verified(env.GITHUB_WEBHOOK_SECRET, sig.slice(7), body))) {
    return text(401, "bad signature");
  }
  let p;
  try {
    p = JSON.parse(dec.decode(body));
  } catch {
    return text(400, "not JSON");
  }
  const team = p?.team ?? {};
  const delivery = request.headers.get("x-github-delivery") ?? crypto.randomUUID();
  await insertStmt(env.DB)
    .bind(delivery, "github", request.headers.get("x-github-event") ?? "", String(p?.action ?? ""), String(team.id ?? ""), String(team.name ?? ""), Date.now())
    .run();
  return text(200, "ok");
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method === "POST" && pathname === "/api/webhooks/sentry") return sentry(request, env);
    if (request.method === "POST" && pathname === "/api/webhooks/github") return github(request, env);
    if (pathname === "/api/health") return text(200, "ok");
    return text(404, "not found");
  },
};
