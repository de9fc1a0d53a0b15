// Kanban board for /api/items. Every piece of issue data goes through
// textContent or attributes: titles come straight from Sentry events and can
// contain arbitrary HTML.
"use strict";

(function () {
  var REFRESH_MS = 15000;
  var COLUMNS = ["TODO", "DOING", "DONE"];
  var LEVELS = ["fatal", "error", "warning", "info", "debug"];
  var timer = null;
  var inFlight = false;

  var el = window.SK.el;
  var safeUrl = window.SK.safeUrl;

  function relative(iso) {
    var t = iso ? Date.parse(iso) : NaN;
    if (isNaN(t)) return null;
    // Clamped so a client clock that runs behind never shows "-3m".
    var s = Math.max(0, (Date.now() - t) / 1000);
    if (s < 45) return "just now";
    var steps = [[60, "m"], [24, "h"], [30, "d"], [12, "mo"]];
    var n = s / 60;
    for (var i = 0; i < steps.length; i++) {
      if (n < steps[i][0]) return Math.floor(n) + steps[i][1] + " ago";
      n /= steps[i][0];
    }
    return Math.floor(n) + "y ago";
  }

  function timeEl(className, label, iso) {
    var rel = relative(iso);
    var node = el("time", className, (label + " " + (rel || "unknown")).trim());
    if (rel) {
      node.dateTime = iso;
      node.title = new Date(iso).toLocaleString();
    }
    return node;
  }


  function initials(name) {
    var parts = String(name).trim().split(/[\s._@-]+/).filter(Boolean);
    var letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : String(name).slice(0, 2);
    return letters.toUpperCase();
  }

  function assigneeEl(a) {
    if (!a) return el("span", "assignee unassigned", "Unassigned");
    var name = a.name || a.email || a.id || "?";
    var node = el("span", "assignee");
    node.title = a.email ? name + " <" + a.email + ">" : String(name);
    if (a.type === "team") {
      node.classList.add("team");
      node.appendChild(el("span", "assignee-name", "#" + name));
    } else {
      node.appendChild(el("span", "avatar", initials(name))).setAttribute("aria-hidden", "true");
      node.appendChild(el("span", "assignee-name", name));
    }
    return node;
  }

  function eventsEl(item) {
    var n = Number(item.count);
    var text = item.count == null || isNaN(n) ? "? events" : n.toLocaleString() + (n === 1 ? " event" : " events");
    if (item.user_count != null) text += " · " + item.user_count.toLocaleString() + (item.user_count === 1 ? " user" : " users");
    return el("span", "events", text);
  }

  var KIND_LABELS = { event_alert: "event alert", metric_alert: "metric alert" };

  function commentsEl(comments) {
    var box = el("details", "comments");
    box.appendChild(el("summary", null, comments.length + (comments.length === 1 ? " comment" : " comments")));
    comments.forEach(function (c) {
      var row = el("div", "comment");
      var head = el("div", "comment-head");
      head.appendChild(el("span", "comment-author", c.author || "someone"));
      head.appendChild(timeEl("comment-time", "", c.time));
      row.appendChild(head);
      row.appendChild(el("p", "comment-text", c.text || ""));
      box.appendChild(row);
    });
    return box;
  }

  function card(item) {
    var level = LEVELS.indexOf(item.level) >= 0 ? item.level : "unknown";
    var kind = /^[a-z_]+$/.test(item.kind || "") ? item.kind : "issue";
    var alert = kind !== "issue";
    var node = el("article", alert ? "card alert kind-" + kind : "card");
    node.dataset.id = item.id;
    // Sentry's issue link points at /#card-<id>.
    node.id = "card-" + item.id;
    if (location.hash === "#" + node.id) node.classList.add("linked");
    if (item.ignored) node.classList.add("ignored");

    var head = el("div", "card-head");
    head.appendChild(el("span", "level level-" + level, item.level || "unknown"));
    var href = safeUrl(item.permalink);
    var sid = el(href ? "a" : "span", "short-id", item.short_id || (alert ? "Sentry" : item.id));
    if (href) {
      sid.href = href;
      sid.target = "_blank";
      sid.rel = "noopener";
    }
    head.appendChild(sid);
    if (item.ignored) head.appendChild(el("span", "tag-ignored", "ignored"));
    if (alert) head.appendChild(el("span", "tag-kind", KIND_LABELS[kind] || kind));
    node.appendChild(head);

    node.appendChild(el("h3", "title", item.title || "(no title)"));
    if (item.culprit) node.appendChild(el("p", "culprit", item.culprit));

    var meta = el("div", "meta");
    var project = el("span", "project", item.project || item.project_name || "—");
    if (item.project_name) project.title = item.project_name;
    meta.appendChild(project);
    if (alert) {
      if (item.rule) meta.appendChild(el("span", "rule", item.rule));
      if (item.trigger_count != null) {
        meta.appendChild(el("span", "events", item.trigger_count + (item.trigger_count === 1 ? " trigger" : " triggers")));
      }
      meta.appendChild(timeEl("last-seen", "triggered", item.last_seen));
    } else {
      meta.appendChild(assigneeEl(item.assignee));
      meta.appendChild(eventsEl(item));
      meta.appendChild(timeEl("last-seen", "seen", item.last_seen));
      meta.appendChild(timeEl("age", "first seen", item.first_seen));
    }
    node.appendChild(meta);
    if (Array.isArray(item.comments) && item.comments.length) node.appendChild(commentsEl(item.comments));
    return node;
  }

  function render(items) {
    var groups = { TODO: [], DOING: [], DONE: [] };
    items.forEach(function (item) {
      // An unknown column still shows up somewhere rather than vanishing.
      (groups[item.column] || groups.TODO).push(item);
    });
    COLUMNS.forEach(function (name) {
      var col = document.querySelector('[data-column="' + name + '"]');
      var list = col.querySelector(".cards");
      var cards = groups[name].map(card);
      if (!cards.length) cards = [el("p", "empty", "No issues")];
      list.replaceChildren.apply(list, cards);
      col.querySelector(".count").textContent = String(groups[name].length);
    });
  }

  function showError(message) {
    var banner = document.getElementById("error");
    banner.textContent = message || "";
    banner.hidden = !message;
    document.getElementById("refreshed").classList.toggle("stale", !!message);
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
  }

  // /?org=<slug> (where Sentry's setup page links) shows one organization.
  var ORG = new URLSearchParams(location.search).get("org") || "";

  function showInstallations(list) {
    var banner = document.getElementById("installations");
    var broken = (list || []).filter(function (i) {
      return i && i.error && i.status !== "deleted" && (!ORG || i.org_slug === ORG);
    });
    banner.replaceChildren.apply(banner, broken.map(function (i) {
      return el("p", "installation-error", (i.org_slug || i.uuid) + ": " + i.error);
    }));
    banner.hidden = !broken.length;
  }

  function refreshInstallations() {
    fetch("/api/installations", { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) { if (body) showInstallations(body.installations); })
      .catch(function () { /* the items banner already reports an unreachable worker */ });
  }

  function refresh() {
    // A slow response must not stack up a second request behind it.
    if (inFlight) return;
    inFlight = true;
    refreshInstallations();
    var url = ORG ? "/api/items?org=" + encodeURIComponent(ORG) : "/api/items";
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (res) {
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (body) {
        if (!body || !Array.isArray(body.items)) throw new Error("unexpected response");
        render(body.items);
        var now = new Date();
        var stamp = document.getElementById("refreshed");
        stamp.textContent = "Refreshed " + now.toLocaleTimeString();
        stamp.dateTime = now.toISOString();
        showError(null);
      })
      .catch(function (err) {
        // Keep the last good board on screen; the banner says it is stale.
        showError("Could not load issues (" + (err && err.message ? err.message : err) + "). Retrying every 15 s.");
      })
      .then(function () {
        inFlight = false;
        schedule();
      });
  }

  // Background tabs get throttled timers, so catch up as soon as the tab is seen.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });

  if (ORG) document.getElementById("org").textContent = ORG;
  refresh();
})();
