// A stand-in for the Cloudflare API (https://api.cloudflare.com/client/v4), on
// 127.0.0.1, implementing just what `tools/deploy.sh` makes wrangler call:
// D1 databases (list, create, lookup, query for remote migrations), queues
// (list, create, consumers), worker secrets (list, put), the worker upload
// (with its static assets), the workers.dev subdomain and cron schedules.
//
//   node tests/deploy/cf-standin/server.mjs <state.json>
//
// Prints "listening <port>" once it serves. Point wrangler at it with
// CLOUDFLARE_API_BASE_URL=http://127.0.0.1:<port>/client/v4. Every call is
// recorded in the state file (method, path, query and, for secrets, the name
// only) together with what exists, so that a test can read both after each
// run; GET /__state answers the same. Unknown endpoints answer 404 and are
// recorded too, so a test sees what wrangler asked that is not implemented.
import http from "node:http";
import fs from "node:fs";
import crypto from "node:crypto";

const stateFile = process.argv[2];
if (!stateFile) {
    console.error("usage: server.mjs <state.json>");
    process.exit(2);
}
const state = {
    calls: [],
    databases: [], // { uuid, name, created_at, migrations: [names] }
    queues: [], // { queue_id, queue_name, consumers: [] }
    scripts: {}, // name -> { secrets: {NAME: value}, uploads, draft_uploads, schedules, subdomain }
    unknown: [],
};
// An existing state file is carried on: a restarted stand-in keeps what exists.
if (fs.existsSync(stateFile)) Object.assign(state, JSON.parse(fs.readFileSync(stateFile, "utf8")));
const save = () => fs.writeFileSync(stateFile, JSON.stringify(state, null, 1));

const ok = (result, extra = {}) => ({ status: 200, body: { success: true, errors: [], messages: [], result, ...extra } });
const err = (status, code, message) => ({
    status,
    body: { success: false, errors: [{ code, message }], messages: [], result: null },
});
const page = (items, query) => {
    const perPage = Number(query.get("per_page") || 1000);
    const p = Number(query.get("page") || 1);
    const slice = items.slice((p - 1) * perPage, p * perPage);
    return ok(slice, { result_info: { page: p, per_page: perPage, count: slice.length, total_count: items.length } });
};
const script = (name) =>
    (state.scripts[name] ??= { secrets: {}, uploads: 0, draft_uploads: 0, schedules: [], subdomain: false });

function d1Result(sql) {
    // The query endpoint runs statements wrangler sends while applying
    // migrations: create the table, list what is applied, apply files.
    return { results: sql, success: true, meta: { changes: 0, duration: 1, rows_read: 0, rows_written: 0 } };
}

function handleD1Query(db, body) {
    let sql;
    try {
        sql = JSON.parse(body).sql ?? "";
    } catch {
        sql = "";
    }
    if (/^\s*SELECT[\s\S]*FROM\s+["`]?d1_migrations\b/i.test(sql)) {
        const rows = db.migrations.map((name, i) => ({ id: i + 1, name, applied_at: "2026-12-02 00:00:00" }));
        return ok([d1Result(rows)]);
    }
    for (const m of sql.matchAll(/INSERT\s+INTO\s+["`]?d1_migrations["`]?\s*\(name\)\s*values\s*\('([^']+)'\)/gi)) {
        db.migrations.push(m[1]);
    }
    return ok([d1Result([])]);
}

// A worker upload (multipart): the draft a first `secret put` creates is a
// one-line module; a real one carries the bindings, whose D1 id is recorded.
function upload(s, body) {
    if (body.includes("export default { fetch() {} }")) {
        s.draft_uploads++;
        return;
    }
    s.uploads++;
    for (const m of body.matchAll(/\{[^{}]*"type":"d1"[^{}]*\}/g)) {
        try {
            s.d1_ids = [...new Set([...(s.d1_ids ?? []), JSON.parse(m[0]).id])];
        } catch {}
    }
}

function route(method, path, query, body, headers) {
    let m;
    if ((m = path.match(/^\/accounts\/([^/]+)\/d1\/database$/))) {
        if (method === "GET") {
            const name = query.get("name");
            return page(
                state.databases.filter((d) => !name || d.name === name).map(({ migrations, ...d }) => d),
                query,
            );
        }
        if (method === "POST") {
            const { name } = JSON.parse(body);
            if (state.databases.some((d) => d.name === name)) return err(400, 7502, "A database with that name already exists");
            const db = { uuid: crypto.randomUUID(), name, created_at: new Date().toISOString(), version: "production", migrations: [] };
            state.databases.push(db);
            const { migrations, ...shown } = db;
            return ok(shown);
        }
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/d1\/database\/([^/]+)(\/.*)?$/))) {
        const key = decodeURIComponent(m[2]);
        const db = state.databases.find((d) => d.uuid === key || d.name === key);
        if (!db) return err(404, 7404, `The database ${key} could not be found`);
        const rest = m[3] ?? "";
        if (rest === "" && method === "GET") {
            const { migrations, ...shown } = db;
            return ok({ ...shown, num_tables: 0, file_size: 0, running_in_region: "WEUR" });
        }
        if ((rest === "/query" || rest === "/raw") && method === "POST") return handleD1Query(db, body);
        if (rest.startsWith("/time_travel/bookmark")) return ok({ bookmark: "00000001-00000000-00004e2c-standin" });
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/queues$/))) {
        if (method === "GET") {
            const names = query.getAll("name");
            return page(state.queues.filter((q) => names.length === 0 || names.includes(q.queue_name)), query);
        }
        if (method === "POST") {
            const { queue_name } = JSON.parse(body);
            if (state.queues.some((q) => q.queue_name === queue_name)) return err(409, 11009, "A queue with this name already exists");
            const q = { queue_id: crypto.randomUUID().replaceAll("-", ""), queue_name, created_on: new Date().toISOString(), modified_on: new Date().toISOString(), producers_total_count: 0, producers: [], consumers_total_count: 0, consumers: [] };
            state.queues.push(q);
            return ok(q);
        }
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/queues\/([^/]+)(\/consumers(?:\/([^/]+))?)?$/))) {
        const q = state.queues.find((x) => x.queue_id === m[2] || x.queue_name === m[2]);
        if (!q) return err(404, 11000, "Queue does not exist");
        if (!m[3] && method === "GET") return ok(q);
        if (m[3] && method === "GET") return ok(q.consumers);
        if (m[3] && (method === "POST" || method === "PUT")) {
            const c = { consumer_id: crypto.randomUUID().replaceAll("-", ""), type: "worker", ...JSON.parse(body) };
            q.consumers = q.consumers.filter((x) => x.script_name !== c.script_name && x.consumer_id !== m[4]);
            q.consumers.push(c);
            return ok(c);
        }
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/workers\/subdomain$/)) && method === "GET") {
        return ok({ subdomain: "standin" });
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/workers\/workers\/([^/]+)$/)) && method === "GET") {
        const s = state.scripts[m[2]];
        if (!s) return err(404, 10007, "This Worker does not exist on your account.");
        return ok({ id: m[2], name: m[2], subdomain: { enabled: s.subdomain, previews_enabled: false } });
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/workers\/services\/([^/]+)$/)) && method === "GET") {
        const s = state.scripts[m[2]];
        if (!s) return err(404, 10090, "This Worker does not exist on your account.");
        return ok({ id: m[2], default_environment: { environment: "production", script: { id: m[2], tag: "standin-tag", etag: "e", handlers: ["fetch"], last_deployed_from: "wrangler" } } });
    }
    if ((m = path.match(/^\/accounts\/([^/]+)\/workers\/scripts\/([^/]+)(\/.*)?$/))) {
        const name = m[2];
        const rest = m[3] ?? "";
        const exists = Boolean(state.scripts[name]);
        if (rest === "" && method === "PUT") {
            upload(script(name), body);
            return ok({ id: name, etag: "e", tag: "standin-tag", deployment_id: crypto.randomUUID(), startup_time_ms: 1, handlers: ["fetch", "queue", "scheduled"], has_modules: true });
        }
        if (!exists) return err(404, 10007, "This Worker does not exist on your account.");
        const s = script(name);
        if (rest === "/versions" && method === "POST") {
            upload(s, body);
            return ok({ id: crypto.randomUUID(), number: s.uploads + s.draft_uploads, resources: { script: { etag: "e" } }, startup_time_ms: 1 });
        }
        if (rest === "/deployments" && method === "POST") {
            s.deployments = (s.deployments ?? 0) + 1;
            return ok({ id: crypto.randomUUID(), source: "wrangler", strategy: "percentage", versions: JSON.parse(body).versions ?? [] });
        }
        if (rest === "/script-settings" && method === "PATCH") return ok(JSON.parse(body));
        if (rest === "/secrets" && method === "GET") return ok(Object.keys(s.secrets).map((n) => ({ name: n, type: "secret_text" })));
        if (rest === "/secrets" && method === "PUT") {
            const { name: key, text } = JSON.parse(body);
            s.secrets[key] = text;
            return ok({ name: key, type: "secret_text" });
        }
        if (rest === "/deployments" && method === "GET") {
            const versions = s.uploads + s.draft_uploads > 0 ? [{ version_id: "standin-version", percentage: 100 }] : [];
            return ok({ deployments: versions.length ? [{ id: "standin-deployment", source: "wrangler", strategy: "percentage", created_on: new Date().toISOString(), versions }] : [] });
        }
        if (rest === "/settings" && method === "GET") return ok({ bindings: [], compatibility_date: "2025-09-01", tags: [] });
        if (rest === "/subdomain" && method === "GET") return ok({ enabled: s.subdomain, previews_enabled: false });
        if (rest === "/subdomain" && method === "POST") {
            s.subdomain = Boolean(JSON.parse(body).enabled);
            return ok({ enabled: s.subdomain, previews_enabled: false });
        }
        if (rest === "/schedules" && method === "PUT") {
            s.schedules = JSON.parse(body);
            return ok({ schedules: s.schedules });
        }
        if (rest === "/schedules" && method === "GET") return ok({ schedules: s.schedules });
        if (rest === "/assets-upload-session" && method === "POST") {
            // Say every asset is already there: nothing to upload.
            return ok({ jwt: "standin-completion-token", buckets: [] });
        }
    }
    return null;
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const url = new URL(req.url, "http://127.0.0.1");
        let path = url.pathname;
        if (path === "/__state") {
            res.writeHead(200, { "content-type": "application/json" });
            res.end(JSON.stringify(state));
            return;
        }
        path = path.replace(/^\/client\/v4/, "");
        let answer;
        try {
            answer = route(req.method, path, url.searchParams, body, req.headers);
        } catch (e) {
            answer = err(400, 10000, `stand-in: ${e.message}`);
        }
        const call = { method: req.method, path, query: url.search };
        if (/\/secrets$/.test(path) && req.method === "PUT") {
            try {
                call.secret = JSON.parse(body).name; // the name, never the value
            } catch {}
        }
        if (!answer) {
            answer = err(404, 7003, `stand-in: no such endpoint ${req.method} ${path}`);
            state.unknown.push(`${req.method} ${path}${url.search}`);
        }
        call.status = answer.status;
        state.calls.push(call);
        save();
        res.writeHead(answer.status, { "content-type": "application/json" });
        res.end(JSON.stringify(answer.body));
    });
});
server.listen(0, "127.0.0.1", () => {
    save();
    console.log(`listening ${server.address().port}`);
});
