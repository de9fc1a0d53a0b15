// The error-log page for /api/errors. Event data goes through textContent or
// attributes only: titles come straight from Sentry events.

import { $, el, localTime, safeUrl } from "./lib/dom.js";
import { api, json, reason, session } from "./lib/api.js";

var REFRESH_MS = 30000;
var SVG = "http://www.w3.org/2000/svg";
var timer = null;

function when(iso) {
  return localTime(iso) || "—";
}

// A polyline of the daily counts, scaled to the busiest day.
function sparkline(trend) {
  var w = 84, h = 20, values = Array.isArray(trend) ? trend : [];
  var max = Math.max.apply(null, values.concat([1]));
  var svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("viewBox", "0 0 " + w + " " + h);
  svg.setAttribute("width", w);
  svg.setAttribute("height", h);
  var step = values.length > 1 ? w / (values.length - 1) : w;
  var points = values.map(function (v, i) {
    return (i * step).toFixed(1) + "," + (h - 1 - (Number(v) || 0) / max * (h - 2)).toFixed(1);
  });
  var line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  svg.appendChild(line);
  var title = document.createElementNS(SVG, "title");
  title.textContent = values.join(", ") + " (daily, oldest first)";
  svg.appendChild(title);
  return svg;
}

function row(g) {
  var tr = el("tr", "group");
  tr.dataset.issue = g.issue_id;
  var what = el("td", "what");
  var href = safeUrl(g.web_url);
  var title = el(href ? "a" : "span", "title", g.title || "(no title)");
  if (href) {
    title.href = href;
    title.target = "_blank";
    title.rel = "noopener";
  }
  what.appendChild(title);
  if (g.culprit) what.appendChild(el("div", "culprit", g.culprit));
  tr.appendChild(what);
  tr.appendChild(el("td", "level level-" + (/^[a-z]+$/.test(g.level || "") ? g.level : "unknown"), g.level || "—"));
  tr.appendChild(el("td", "status", g.status));
  tr.appendChild(el("td", "count", g.event_count));
  var spark = el("td", "trend");
  spark.appendChild(sparkline(g.trend));
  tr.appendChild(spark);
  tr.appendChild(el("td", "last-seen", when(g.last_seen)));
  tr.appendChild(el("td", "first-seen", when(g.first_seen)));
  var links = el("td", "links");
  if (g.has_card) {
    var card = el("a", "card-link", "card");
    card.href = "/#card-" + encodeURIComponent(g.issue_id);
    links.appendChild(card);
  }
  tr.appendChild(links);
  return tr;
}

function query() {
  var params = new URLSearchParams();
  new FormData($("filters")).forEach(function (v, k) {
    if (String(v).trim()) params.set(k, String(v).trim());
  });
  return params.toString();
}

function showError(message) {
  var banner = $("error");
  banner.textContent = message || "";
  banner.hidden = !message;
}

// A 401 goes to the login page (api); other failures show in the banner.
function getJson(url) {
  return api(url, { cache: "no-store" }).then(json);
}

function refresh() {
  clearTimeout(timer);
  var q = query();
  history.replaceState(null, "", q ? "?" + q : location.pathname);
  Promise.all([getJson("/api/errors" + (q ? "?" + q : "")), getJson("/api/errors/stats")])
    .then(function (both) {
      var groups = (both[0] && both[0].groups) || [];
      var body = document.querySelector("#groups tbody");
      var rows = groups.map(row);
      if (!rows.length) {
        var empty = el("tr", "empty");
        var cell = el("td", null, "No errors match.");
        cell.colSpan = 8;
        empty.appendChild(cell);
        rows = [empty];
      }
      body.replaceChildren.apply(body, rows);
      var s = both[1] || {};
      var stats = s.groups + " groups · " + s.events + " events";
      if (s.dead_letters) stats += " · " + s.dead_letters + " events failed to store (dead-letter queue)";
      $("stats").textContent = stats;
      $("refreshed").textContent = "Refreshed " + new Date().toLocaleTimeString();
      showError(null);
    })
    .catch(function (err) {
      if (err && err.unauthenticated) return;
      showError("Could not load the error log (" + reason(err) + ").");
    })
    .then(function () {
      timer = setTimeout(refresh, REFRESH_MS);
    });
}

// Filters from the address, so a filtered view can be shared.
var form = $("filters");
new URLSearchParams(location.search).forEach(function (v, k) {
  if (form.elements[k]) form.elements[k].value = v;
});
form.addEventListener("change", refresh);
form.addEventListener("submit", function (e) {
  e.preventDefault();
  refresh();
});
session();
refresh();
