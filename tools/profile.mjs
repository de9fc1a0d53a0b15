// Where a Sentry issue ack's CPU goes inside the worker (issue 18's
// breakdown): drives signed `issue.created` deliveries at a running
// `wrangler dev` while V8's sampling profiler records the worker's isolate
// through the inspector, then sums the samples by stage and by function.
//
//   node tools/profile.mjs --base http://127.0.0.1:8787 --inspector 9230 \
//       --secret S --names target/wasm-names/index_bg.json [--n 2000] [--c 16]
//
// Run by tools/profile.sh, which starts the worker. The worker's isolate
// only: D1's SQL runs in the local simulator's own isolate, so what a
// sample shows under `d1` is the binding's glue and the wait, not SQLite.
import { createHmac } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const base = arg("base");
const inspector = arg("inspector");
const secret = arg("secret");
const n = Number(arg("n", "2000"));
const c = Number(arg("c", "16"));
const names = arg("names") ? JSON.parse(readFileSync(arg("names"), "utf8")) : {};
const firstId = Number(arg("first-id", String(900_000_000 + (Date.now() % 1_000_000) * 100)));
// `issue` (Sentry issue.created, the default) or `team` (GitHub team
// created, from the octokit-derived fixture; --github-secret signs it).
const kind = arg("kind", "issue");
const githubSecret = arg("github-secret");
const teamFixture = kind === "team"
  ? JSON.parse(readFileSync(new URL("../tests/fixtures/github/team-created.json", import.meta.url), "utf8"))
  : null;

// Stages by the first matching frame from the leaf up; order matters (a
// verify inside the hook is verify, not plan).
const STAGES = [
  ["verify: HMAC-SHA256 + digest", /sha2|hmac|digest|verify::/],
  ["parse: serde_json", /serde_json|serde::|serde_core|serde_wasm_bindgen/],
  ["config: env lookups", /shell::env::config|Config::from_lookup|Env::(secret|var)|get_binding/],
  ["log: JSON line + console", /log::DeliveryLog|console_log|console::log/],
  ["D1 binding: statements to JS and back", /shell::d1|worker::d1|D1/],
  ["core: plan + SQL params", /sentry_kanban::(sentry|board|plan|prior|store|webhook|sql|time)/],
  ["shell: request, headers, body, answer", /sentry_kanban::shell|worker::(request|headers|response|body)|http::/],
  ["allocator + memcpy", /dlmalloc|alloc::|memcpy|memmove|memset|__rust_(alloc|dealloc|realloc)/],
  ["other Rust (core, std, js_sys)", /^(core|std|js_sys|wasm_bindgen|worker)::|</],
];

function frameName(cf) {
  const m = /wasm-function\[(\d+)\]|^\$?func(\d+)$/.exec(cf.functionName);
  if (m) return names[m[1] ?? m[2]] ?? cf.functionName;
  if (cf.url && /\.wasm|wasm:\/\//.test(cf.url)) {
    const idx = /\[(\d+)\]/.exec(cf.functionName);
    if (idx && names[idx[1]]) return names[idx[1]];
  }
  const where = cf.url ? ` ${cf.url.split("/").slice(-2).join("/")}:${cf.lineNumber + 1}` : "";
  return `${cf.functionName || "(anonymous)"}${where}`;
}

// JS frames by the script they run in: wrangler's dev middleware, the
// workers-rs shim and wasm-bindgen glue (build/), the local D1 binding.
const SCRIPTS = [
  ["JS: local D1 binding (miniflare's wrapper, fetch to the simulator)", /d1|D1/],
  ["JS: wrangler dev middleware and console", /middleware|wrangler|formatLog|console/i],
  ["JS: workers-rs shim, wasm-bindgen glue", /shim\.mjs|index\.js|index_bg/],
];

function isJs(cf) {
  return !/wasm/.test(cf.url || "") && !/wasm-function/.test(cf.functionName) && cf.url !== "";
}

async function connect() {
  const list = await (await fetch(`http://127.0.0.1:${inspector}/json`)).json();
  const target = list.find((t) => t.webSocketDebuggerUrl);
  if (!target) throw new Error(`no inspector target at ${inspector}: ${JSON.stringify(list)}`);
  // wrangler's inspector proxy refuses a connection without an allowed Origin.
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { Origin: "http://localhost" } });
  await new Promise((ok, fail) => {
    ws.onopen = ok;
    ws.onerror = fail;
  });
  let id = 0;
  const waiting = new Map();
  ws.onmessage = (e) => {
    const msg = JSON.parse(e.data);
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  };
  const send = (method, params = {}) =>
    new Promise((ok, fail) => {
      id += 1;
      waiting.set(id, (m) => (m.error ? fail(new Error(`${method}: ${JSON.stringify(m.error)}`)) : ok(m.result)));
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { ws, send };
}

function body(i) {
  const id = firstId + i;
  return JSON.stringify({
    action: "created",
    installation: { uuid: "bench" },
    data: {
      issue: {
        id: String(id), shortId: `PROF-${i}`, title: `Profile error \u00e9 ${i}`, level: "error",
        status: "unresolved", project: { id: "1", slug: "bench" }, assignedTo: null,
      },
    },
    actor: { type: "application", id: "sentry", name: "Sentry" },
  });
}

function teamRequest(i) {
  const v = structuredClone(teamFixture);
  Object.assign(v.team, { id: firstId + i, slug: `prof-team-${i}`, name: `prof-team-${i}` });
  const b = JSON.stringify(v);
  const sig = createHmac("sha256", githubSecret).update(b).digest("hex");
  const headers = {
    "content-type": "application/json", "x-github-event": "team", "x-github-delivery": `prof-${firstId}-${i}`,
    "x-hub-signature-256": `sha256=${sig}`,
  };
  return [`${base}/api/webhooks/github`, { method: "POST", headers, body: b }];
}

async function deliver(i) {
  if (kind === "team") {
    const r = await fetch(...teamRequest(i));
    await r.arrayBuffer();
    return r.status;
  }
  const b = body(i);
  const sig = createHmac("sha256", secret).update(b).digest("hex");
  const r = await fetch(`${base}/api/webhooks/sentry`, {
    method: "POST",
    headers: {
      "content-type": "application/json", "sentry-hook-resource": "issue",
      "sentry-hook-signature": sig, "request-id": `prof-${firstId}-${i}`,
    },
    body: b,
  });
  await r.arrayBuffer();
  return r.status;
}

async function load(count) {
  let next = 0, bad = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      if ((await deliver(i)) >= 300) bad += 1;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: c }, worker));
  return { secs: (performance.now() - t0) / 1000, bad };
}

function summarise(profile, requests) {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map(), stages = new Map();
  let busy = 0, total = 0;
  const deltas = profile.timeDeltas;
  profile.samples.forEach((sid, k) => {
    const us = deltas[k + 1] ?? deltas[k] ?? 0;
    total += us;
    const leaf = byId.get(sid);
    const leafName = frameName(leaf.callFrame);
    if (/^\((idle|program|garbage collector|root)\)$/.test(leafName)) {
      const key = leafName === "(garbage collector)" ? "V8: garbage collector" : leafName === "(program)" ? "V8: (program)" : null;
      if (key) {
        busy += us;
        stages.set(key, (stages.get(key) ?? 0) + us);
      }
      return;
    }
    busy += us;
    self.set(leafName, (self.get(leafName) ?? 0) + us);
    let stage = null, jsOnly = true;
    for (let id = sid; id !== undefined && !stage; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      if (!isJs(cf)) jsOnly = false;
      const nm = frameName(cf);
      for (const [label, re] of STAGES) if (re.test(nm)) { stage = label; break; }
    }
    if (!stage && jsOnly) {
      const leafCf = leaf.callFrame;
      const found = SCRIPTS.find(([, re]) => re.test(`${leafCf.url} ${leafCf.functionName}`));
      stage = found ? found[0] : "JS: runtime and other scripts";
    }
    if (!stage) stage = "unnamed wasm";
    stages.set(stage, (stages.get(stage) ?? 0) + us);
  });
  const per = (us) => `${(us / requests).toFixed(1).padStart(7)} µs/req`;
  const pct = (us) => `${((100 * us) / Math.max(busy, 1)).toFixed(1).padStart(5)}%`;
  console.log(`\nCPU in the worker's isolate: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms sampled, ${requests} requests: ${(busy / requests).toFixed(0)} µs a request\n`);
  console.log("| stage | share | per request |\n|---|---|---|");
  for (const [k, v] of [...stages].sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${pct(v).trim()} | ${per(v).trim()} |`);
  console.log("\nTop functions by self time:");
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${pct(v)} ${per(v)}  ${k.slice(0, 140)}`);
}

const { ws, send } = await connect();
await send("Profiler.enable");
await send("Profiler.setSamplingInterval", { interval: 100 });
await deliver(n + 1); // warm: the isolate and the D1 file
await send("Profiler.start");
const run = await load(n);
const { profile } = await send("Profiler.stop");
ws.close();
if (arg("save")) writeFileSync(arg("save"), JSON.stringify(profile)); // opens in DevTools
console.log(`${n} ${kind === "team" ? "GitHub team" : "issue.created"} at concurrency ${c}: ${(n / run.secs).toFixed(0)} req/s, ${run.bad} non-2xx`);
summarise(profile, n);
