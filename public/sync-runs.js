// The sync runs on the delivery page (/api/sync/status, newest 50): each
// run's drift, what the webhooks had missed before the sync corrected it.
// Self-contained: it only touches #sync-runs. Values go through textContent.

import { $, el, cell, localTime } from "./lib/dom.js";
import { api, jsonOrNull } from "./lib/api.js";

var REFRESH_MS = 30000;
var table = $("sync-runs");

function when(iso) {
  return localTime(iso) || String(iso || "—");
}

function row(r) {
  var tr = el("tr", "sync-run" + (r.status === "failed" ? " failed" : ""));
  tr.dataset.run = String(r.id || "");
  var time = el("td", "time");
  var t = el("time", null, when(r.started_at));
  if (r.started_at) t.dateTime = r.started_at;
  time.appendChild(t);
  tr.appendChild(time);
  tr.appendChild(cell("org", r.org));
  tr.appendChild(cell("trigger", r.trigger));
  tr.appendChild(cell("run-status", r.status));
  tr.appendChild(cell("issues", r.issues));
  tr.appendChild(cell("drift-missing", r.drift_missing));
  tr.appendChild(cell("drift-status", r.drift_status));
  tr.appendChild(cell("drift-assignee", r.drift_assignee));
  tr.appendChild(cell("error-text", r.last_error));
  return tr;
}

function show(runs) {
  var body = table.tBodies[0];
  var list = (runs || []).filter(function (r) { return r && r.id != null; });
  if (!list.length) {
    var empty = el("tr", "empty");
    var td = el("td", null, "No sync has run yet.");
    td.colSpan = 9;
    empty.appendChild(td);
    body.replaceChildren(empty);
    return;
  }
  body.replaceChildren.apply(body, list.map(row));
}

function load() {
  api("/api/sync/status", { cache: "no-store" })
    .then(jsonOrNull)
    .then(function (b) { if (b) show(b.runs); })
    .catch(function () { /* the page's own banner reports an unreachable worker */ })
    .then(function () { setTimeout(load, REFRESH_MS); });
}

if (table) load();
