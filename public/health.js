// The webhook-silence banner: shown while GET /api/webhook-health says the
// Sentry alarm is up, with its reason and a link to the delivery log.
// Self-contained: it only touches #webhook-silence.

import { $ } from "./lib/dom.js";
import { api, jsonOrNull } from "./lib/api.js";

var POLL_MS = 30000;
var banner = $("webhook-silence");
var reason = $("webhook-silence-reason");
var timer = null;

function show(body) {
  var s = body && body.sentry;
  var up = !!(s && s.alarm === true);
  reason.textContent = up ? String(s.reason || "Sentry changes went unreported by any webhook") + "." : "";
  banner.hidden = !up;
}

function check() {
  clearTimeout(timer);
  api("/api/webhook-health", { cache: "no-store" })
    .then(jsonOrNull)
    .then(function (body) { if (body) show(body); })
    .catch(function () { /* the board's own banner reports an unreachable worker */ })
    .then(function () { timer = setTimeout(check, POLL_MS); });
}

if (banner) {
  document.addEventListener("visibilitychange", function () { if (!document.hidden) check(); });
  check();
}
