// Loading the board: /api/items every 10 s (conditional on its ETag, one
// request at a time), the installations' errors every minute.

import { $, el } from "../lib/dom.js";
import { api, errorText, jsonOrNull, reason } from "../lib/api.js";
import { INSTALLATIONS_MS, POLL_MS, ORG, state, overlays, setBanner } from "./state.js";
import { linkedCard } from "./cards.js";
import { updateFilterOptions } from "./filters.js";
import { render, retime } from "./render.js";

var inFlight = false;
var again = false;
var timer = null;
var lastInstallations = 0;

function showInstallations(list) {
  var banner = $("installations");
  var broken = (list || []).filter(function (i) {
    return i && i.error && i.status !== "deleted" && (!ORG || i.org_slug === ORG);
  });
  banner.replaceChildren.apply(banner, broken.map(function (i) {
    return el("p", "installation-error", (i.org_slug || i.uuid) + ": " + i.error);
  }));
  banner.hidden = !broken.length;
}

function refreshInstallations() {
  lastInstallations = Date.now();
  api("/api/installations", { cache: "no-store" })
    .then(jsonOrNull)
    .then(function (body) { if (body) showInstallations(body.installations); })
    .catch(function () { /* the items banner already reports an unreachable worker */ });
}

// Drops the optimistic patches whose action finished before request `s`.
function settle(s) {
  var changed = false;
  Object.keys(overlays).forEach(function (id) {
    if (overlays[id].doneSeq <= s) {
      delete overlays[id];
      changed = true;
    }
  });
  return changed;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(function () {
    if (document.hidden) schedule();
    else refresh();
  }, POLL_MS);
}

export function refresh() {
  // A slow response must not stack up a second request behind it.
  if (inFlight) {
    again = true;
    return;
  }
  inFlight = true;
  again = false;
  clearTimeout(timer);
  var mine = ++state.seq;
  if (Date.now() - lastInstallations >= INSTALLATIONS_MS) refreshInstallations();
  var url = ORG ? "/api/items?org=" + encodeURIComponent(ORG) : "/api/items";
  // With our own If-None-Match the browser passes a 304 through untouched;
  // without a tag, "no-cache" still makes it ask the worker.
  var opts = state.etag ? { headers: { "If-None-Match": state.etag } } : { cache: "no-cache" };
  api(url, opts)
    .then(function (res) {
      if (res.status === 304) return null;
      if (!res.ok) return errorText(res).then(function (t) { throw new Error(t); });
      var tag = res.headers.get("ETag");
      return res.json().then(function (body) {
        if (!body || !Array.isArray(body.items)) throw new Error("unexpected response");
        state.etag = tag;
        return body;
      });
    })
    .then(function (body) {
      var settled = settle(mine);
      if (body) {
        state.items = body.items.filter(function (i) { return i && i.id != null; });
        state.items.forEach(function (i) { i.id = String(i.id); });
        state.syncedAt = body.synced_at || null;
        var first = !state.loaded;
        state.loaded = true;
        updateFilterOptions();
        render();
        var linked = first ? linkedCard() : null;
        if (linked) linked.scrollIntoView({ block: "center" });
      } else if (settled) {
        render();
      }
      retime();
      var now = new Date();
      var stamp = $("refreshed");
      stamp.textContent = "Refreshed " + now.toLocaleTimeString();
      stamp.dateTime = now.toISOString();
      setBanner("load", null);
    })
    .catch(function (err) {
      if (err.unauthenticated) return;
      // Keep the last good board on screen; the banner says it is stale.
      setBanner("load", "Could not load issues (" + reason(err) + "). Retrying every 10 s.");
    })
    .then(function () {
      inFlight = false;
      if (again) refresh();
      else schedule();
    });
}
