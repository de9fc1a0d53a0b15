// The delivery log (/api/deliveries, newest 200): what arrived and what the
// worker did with it, and the requests refused before their signature could
// be trusted (a bounded ring). Values go through textContent only.

import { $, el, cell, localTime, relative } from "./lib/dom.js";
import { api, json, reason, session } from "./lib/api.js";
import { readFilters, filterSearch } from "./lib/filters.js";

var REFRESH_MS = 15000;
var FILTERS = ["source", "verdict", "outcome", "q"];
var form = $("filters");
var rows = [];
var rejections = [];
var timer = null;
// Accepted (2xx) but worth a look: the reason is in the last column.
var NOTABLE = { unusable: true, repeat: true, duplicate: true, filled: true };
var inFlight = false;
var filter = readFilters(FILTERS);

function when(iso) {
  return localTime(iso) || String(iso || "—");
}

function ok(d) {
  var s = Number(d.status);
  return s >= 200 && s < 300;
}

function matches(d) {
  if (filter.source && d.source !== filter.source) return false;
  if (filter.verdict && d.verdict !== filter.verdict) return false;
  if (filter.outcome === "ok" && !ok(d)) return false;
  if (filter.outcome === "failed" && ok(d)) return false;
  var q = filter.q.trim().toLowerCase();
  if (q) {
    var hay = [d.source, d.resource, d.action, d.verdict, d.request_id, d.error, d.status]
      .filter(function (v) { return v != null; }).join(" ").toLowerCase();
    if (hay.indexOf(q) < 0) return false;
  }
  return true;
}

function row(d) {
  var tr = el("tr", ok(d) ? "delivery" : "delivery failed");
  var time = el("td", "time");
  var t = el("time", null, when(d.received_at));
  if (d.received_at) {
    t.dateTime = d.received_at;
    t.title = relative(d.received_at) || "";
  }
  time.appendChild(t);
  tr.appendChild(time);
  tr.appendChild(cell("source", d.source));
  tr.appendChild(cell("resource", d.resource));
  tr.appendChild(cell("action", d.action));
  var verdict = el("td", "verdict");
  var tone = !ok(d) ? "verdict-bad" : d.verdict === "unusable" ? "verdict-warn" : NOTABLE[d.verdict] ? "verdict-note" : "verdict-ok";
  verdict.appendChild(el("span", "verdict-tag " + tone, d.verdict || "—"));
  tr.appendChild(verdict);
  tr.appendChild(cell("http", d.status));
  tr.appendChild(cell("latency", d.latency_ms == null ? null : d.latency_ms + " ms"));
  tr.appendChild(cell("request-id", d.request_id));
  tr.appendChild(cell("error-text", d.error));
  tr.appendChild(replayCell(d));
  return tr;
}

// A kept body (verified, but unusable or failed) can be run again; a
// replay is its own entry, marked with the one it replays.
function replayCell(d) {
  var td = el("td", "replay");
  if (d.replay_of != null) td.appendChild(el("span", "replay-of", "replay of #" + d.replay_of));
  if (!Number(d.body_kept)) return td;
  var button = el("button", "replay-button", "Replay");
  button.type = "button";
  button.title = "Run delivery #" + d.id + " again through the webhook's path";
  button.addEventListener("click", function () {
    button.disabled = true;
    api("/api/deliveries/" + encodeURIComponent(d.id) + "/replay", { method: "POST" })
      .then(json)
      .then(function () { refresh(); })
      .catch(function (err) {
        if (err.unauthenticated) return;
        showError("Replay of #" + d.id + " failed (" + reason(err) + ").");
      })
      .then(function () { button.disabled = false; });
  });
  td.appendChild(button);
  return td;
}

// Source and verdict choices come from the rows; a value from the address
// stays selectable even when no row has it.
function options(select, key, value) {
  var seen = {};
  rows.forEach(function (d) { if (d[key]) seen[d[key]] = true; });
  if (value) seen[value] = true;
  var values = Object.keys(seen).sort();
  var sig = values.join("\n");
  if (select.dataset.key !== sig) {
    select.dataset.key = sig;
    var nodes = [el("option", null, "any")];
    nodes[0].value = "";
    values.forEach(function (v) { nodes.push(el("option", null, v)); });
    select.replaceChildren.apply(select, nodes);
  }
  select.value = value;
}

function render() {
  options($("filter-source"), "source", filter.source);
  options($("filter-verdict"), "verdict", filter.verdict);
  var shown = rows.filter(matches);
  var body = document.querySelector("#deliveries tbody");
  var trs = shown.map(row);
  if (!trs.length) {
    var empty = el("tr", "empty");
    var td = el("td", null, rows.length ? "No deliveries match." : "No deliveries yet.");
    td.colSpan = 10;
    empty.appendChild(td);
    trs = [empty];
  }
  body.replaceChildren.apply(body, trs);
  renderRejections();
  var failed = rows.filter(function (d) { return !ok(d); }).length;
  var stats = rows.length + " deliveries" + (failed ? " · " + failed + " not 2xx" : "");
  if (shown.length !== rows.length) stats = shown.length + " of " + stats;
  $("stats").textContent = stats;
}

function renderRejections() {
  var section = $("rejections-section");
  section.hidden = !rejections.length;
  var trs = rejections.map(function (d) {
    var tr = el("tr", "delivery failed");
    tr.appendChild(cell("time", when(d.received_at)));
    tr.appendChild(cell("source", d.source));
    tr.appendChild(cell("resource", d.resource));
    var verdict = el("td", "verdict");
    verdict.appendChild(el("span", "verdict-tag verdict-bad", d.verdict || "—"));
    tr.appendChild(verdict);
    tr.appendChild(cell("http", d.status));
    tr.appendChild(cell("request-id", d.request_id));
    tr.appendChild(cell("error-text", d.error));
    return tr;
  });
  var body = $("rejections").querySelector("tbody");
  body.replaceChildren.apply(body, trs);
}

function showError(message) {
  var banner = $("error");
  banner.textContent = message || "";
  banner.hidden = !message;
  $("refreshed").classList.toggle("stale", !!message);
}

function refresh() {
  if (inFlight) return;
  inFlight = true;
  clearTimeout(timer);
  api("/api/deliveries", { cache: "no-store" })
    .then(json)
    .then(function (body) {
      rows = body && Array.isArray(body.deliveries) ? body.deliveries : [];
      rejections = body && Array.isArray(body.rejections) ? body.rejections : [];
      render();
      $("refreshed").textContent = "Refreshed " + new Date().toLocaleTimeString();
      showError(null);
    })
    .catch(function (err) {
      if (err.unauthenticated) return;
      showError("Could not load the delivery log (" + reason(err) + "). Retrying every 15 s.");
    })
    .then(function () {
      inFlight = false;
      timer = setTimeout(function () {
        if (document.hidden) return;
        refresh();
      }, REFRESH_MS);
    });
}

function onFilter() {
  FILTERS.forEach(function (k) { filter[k] = form.elements[k].value; });
  history.replaceState(history.state, "", location.pathname + filterSearch(filter, FILTERS));
  render();
}

$("filter-outcome").value = filter.outcome === "ok" || filter.outcome === "failed" ? filter.outcome : "";
$("filter-q").value = filter.q;
form.addEventListener("change", onFilter);
form.addEventListener("input", onFilter);
form.addEventListener("submit", function (e) { e.preventDefault(); });
document.addEventListener("visibilitychange", function () {
  if (!document.hidden) refresh();
});
session();
refresh();
