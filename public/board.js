// Kanban board for /api/items. Every piece of issue data goes through
// textContent or attributes: titles come straight from Sentry events and can
// contain arbitrary HTML.
"use strict";

(function () {
  var POLL_MS = 10000;
  var INSTALLATIONS_MS = 60000;
  var CARD_ERROR_MS = 30000;
  var COLUMNS = ["TODO", "DOING", "DONE"];
  var LEVELS = ["fatal", "error", "warning", "info", "debug"];
  var FILTERS = ["project", "level", "priority", "assignee", "q"];
  var PRIORITIES = ["high", "medium", "low"];
  // Sentry's lanes a card stands out for in its column (badge + class).
  var LOUD_SUBSTATUS = { escalating: "escalating", regressed: "regressed" };
  var SUBSTATUS_LABELS = {
    archived_until_escalating: "until escalating",
    archived_until_condition_met: "until condition met",
    archived_forever: "forever",
  };
  var KIND_LABELS = { event_alert: "event alert", metric_alert: "metric alert" };

  var SK = window.SK;
  var el = SK.el;
  var safeUrl = SK.safeUrl;
  var $ = function (id) { return document.getElementById(id); };
  var board = $("board");

  // /?org=<slug> (where Sentry's setup page links) shows one organization.
  var query = new URLSearchParams(location.search);
  var ORG = query.get("org") || "";
  var filter = {};
  FILTERS.forEach(function (k) { filter[k] = query.get(k) || ""; });

  var items = []; // the last list the server sent
  var syncedAt = null;
  var etag = null;
  var loaded = false;
  var seq = 0; // numbers the /api/items requests
  var inFlight = false;
  var again = false;
  var timer = null;
  var lastInstallations = 0;
  // Optimistic changes: id -> {patch, doneSeq}. A patch is laid over the
  // server's item until a list requested after its action finished arrives.
  var overlays = {};
  var cardErrors = {}; // id -> {text, until}
  var openComments = {}; // id -> true while its comments are expanded
  // /api/items carries only each card's comment_count and comments_version;
  // a card's comments are loaded when they are shown, and again only when
  // its version moves. id -> {version, list}; id -> version being loaded.
  var commentCache = {};
  var commentLoads = {};
  var menuFor = null; // id of the card whose menu is open
  var dragId = null;
  var renderDeferred = false;
  var banners = { load: null, action: null };
  var pickToken = 0;

  // ---- helpers -------------------------------------------------------------

  function isAlert(item) {
    return !!item.kind && item.kind !== "issue";
  }

  function view(item) {
    var o = overlays[item.id];
    return o ? Object.assign({}, item, o.patch) : item;
  }

  function findItem(id) {
    for (var i = 0; i < items.length; i++) if (items[i].id === id) return view(items[i]);
    return null;
  }

  function cardEl(id) {
    return board.querySelector('article.card[data-id="' + CSS.escape(String(id)) + '"]');
  }

  function assigneeKey(a) {
    return (a.type || "user") + ":" + (a.id != null ? a.id : a.email || a.name || "");
  }

  function assigneeLabel(a) {
    var name = a.name || a.email || a.id || "?";
    return a.type === "team" ? "#" + name : String(name);
  }

  function initials(name) {
    var parts = String(name).trim().split(/[\s._@-]+/).filter(Boolean);
    var letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : String(name).slice(0, 2);
    return letters.toUpperCase();
  }

  function plural(n, one, many) {
    return Number(n).toLocaleString() + " " + (Number(n) === 1 ? one : many);
  }

  function timeEl(className, label, iso) {
    var rel = SK.relative(iso);
    var node = el("time", className, (label + " " + (rel || "unknown")).trim());
    if (rel) {
      node.dateTime = iso;
      node.dataset.label = label;
      node.title = new Date(iso).toLocaleString();
    }
    return node;
  }

  function setBanner(kind, message) {
    banners[kind] = message || null;
    var text = [banners.action, banners.load].filter(Boolean).join(" ");
    var banner = $("error");
    banner.textContent = text;
    banner.hidden = !text;
    $("refreshed").classList.toggle("stale", !!banners.load);
  }

  // ---- cards -----------------------------------------------------------------

  function assigneeEl(a) {
    if (!a) return el("span", "assignee unassigned", "Unassigned");
    var node = el("span", "assignee");
    var name = assigneeLabel(a);
    node.title = a.email ? name + " <" + a.email + ">" : name;
    if (a.type === "team") {
      node.classList.add("team");
    } else {
      node.appendChild(el("span", "avatar", initials(name))).setAttribute("aria-hidden", "true");
    }
    node.appendChild(el("span", "assignee-name", name));
    return node;
  }

  function eventsEl(item) {
    var n = Number(item.count);
    var text = item.count == null || isNaN(n) ? "? events" : plural(n, "event", "events");
    if (item.user_count != null) text += " · " + plural(item.user_count, "user", "users");
    return el("span", "events", text);
  }

  function commentsEl(item) {
    var box = el("details", "comments");
    box.dataset.version = item.comments_version || "";
    box.appendChild(el("summary", null, plural(item.comment_count, "comment", "comments")));
    var cached = commentCache[item.id];
    if (cached && cached.version === box.dataset.version) fillComments(box, cached.list);
    if (openComments[item.id]) {
      box.open = true;
      loadComments(item.id, box.dataset.version);
    }
    return box;
  }

  function fillComments(box, comments) {
    box.querySelectorAll(".comment").forEach(function (row) { row.remove(); });
    comments.forEach(function (c) {
      var row = el("div", "comment");
      var head = el("div", "comment-head");
      head.appendChild(el("span", "comment-author", c.author || "someone"));
      head.appendChild(timeEl("comment-time", "", c.time));
      row.appendChild(head);
      row.appendChild(el("p", "comment-text", c.text || ""));
      box.appendChild(row);
    });
  }

  // Loads a card's comments unless this version is cached or on its way.
  function loadComments(id, version) {
    var cached = commentCache[id];
    if ((cached && cached.version === version) || commentLoads[id] === version) return;
    commentLoads[id] = version;
    SK.api("/api/items/" + encodeURIComponent(id) + "/comments", { cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) {
        delete commentLoads[id];
        if (!body) return;
        commentCache[id] = { version: body.version || "", list: body.comments || [] };
        var c = cardEl(id);
        var box = c && c.querySelector("details.comments");
        if (box) fillComments(box, commentCache[id].list);
      })
      .catch(function () { delete commentLoads[id]; });
  }

  // ---- history ------------------------------------------------------------------
  // A card's changes (/api/items/{id}/history), loaded when its "History"
  // is opened, and again while open when the card's updated_at moves.
  var historyOpen = {}; // id -> true while expanded
  var historyCache = {}; // id -> {version, list}
  var historyLoads = {}; // id -> version being loaded
  var SOURCE_WORDS = { board: "via the board", sync: "by the sync with Sentry", reread: "by a re-read of Sentry" };

  function historyText(e) {
    var to = e.to == null ? null : String(e.to);
    var what;
    if (e.field === "column") {
      what = to === "DONE" ? "moved to DONE" : e.from === "DONE" ? "re-opened" + (to === "TODO" ? "" : " into " + to) : "moved to " + to;
    } else if (e.field === "ignored") what = to === "ignored" ? "ignored" : "no longer ignored";
    else if (e.field === "assignee") what = to ? "assigned to " + to : "unassigned" + (e.from ? " from " + e.from : "");
    else what = String(e.field || "changed") + (to ? ": " + to.replace(/_/g, " ") : " cleared");
    var who = e.actor ? " by " + e.actor : "";
    if (e.source === "sentry") who = e.actor ? who + (e.actor === "Sentry" ? "" : " in Sentry") : " by Sentry";
    else if (SOURCE_WORDS[e.source]) who += " " + SOURCE_WORDS[e.source];
    var at = Date.parse(e.at);
    var when = "";
    if (!isNaN(at)) {
      var d = new Date(at);
      var today = d.toDateString() === new Date().toDateString();
      when = ", " + (today ? "" : d.toLocaleDateString() + " ") + d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    }
    return what + who + when;
  }

  function fillHistory(box, list) {
    box.querySelectorAll(".history-list, .history-empty").forEach(function (n) { n.remove(); });
    if (!list.length) { box.appendChild(el("p", "history-empty", "No changes yet")); return; }
    var ol = el("ol", "history-list");
    list.forEach(function (e) {
      var li = el("li", "history-entry", historyText(e));
      if (e.at) li.title = String(e.at);
      ol.appendChild(li);
    });
    box.appendChild(ol);
  }

  function loadHistory(id, version) {
    var cached = historyCache[id];
    if ((cached && cached.version === version) || historyLoads[id] === version) return;
    historyLoads[id] = version;
    SK.api("/api/items/" + encodeURIComponent(id) + "/history", { cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) {
        delete historyLoads[id];
        if (!body) return;
        historyCache[id] = { version: version, list: Array.isArray(body.history) ? body.history : [] };
        var c = cardEl(id);
        var box = c && c.querySelector("details.history");
        if (box) fillHistory(box, historyCache[id].list);
      })
      .catch(function () { delete historyLoads[id]; });
  }

  function historyEl(item) {
    var box = el("details", "history");
    box.dataset.version = item.updated_at || "";
    box.appendChild(el("summary", null, "History"));
    var cached = historyCache[item.id];
    if (cached) fillHistory(box, cached.list);
    if (historyOpen[item.id]) {
      box.open = true;
      loadHistory(item.id, box.dataset.version);
    }
    return box;
  }

  board.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.matches || !d.matches("details.history")) return;
    var c = d.closest("article.card");
    if (!c) return;
    if (d.open) {
      historyOpen[c.dataset.id] = true;
      loadHistory(c.dataset.id, d.dataset.version || "");
    } else delete historyOpen[c.dataset.id];
  }, true);

  function writebackEl(wb) {
    if (!wb || !wb.state) return null;
    var text;
    if (wb.state === "pending") text = "Syncing to Sentry…";
    else if (wb.state === "retrying") text = "Sentry: " + (wb.error || "error") + " (retrying)";
    else if (wb.state === "failed") text = "Sentry: failed: " + (wb.error || "unknown error");
    else return null;
    var node = el("p", "writeback writeback-" + (/^[a-z]+$/.test(wb.state) ? wb.state : "unknown"), text);
    node.setAttribute("role", "status");
    if (wb.at && !isNaN(Date.parse(wb.at))) node.title = "since " + new Date(wb.at).toLocaleString();
    return node;
  }

  // The card a Sentry issue link points at (`#card-<id>`), or null. The
  // fragment is whatever the address bar holds: a broken escape
  // (`#card-%E0%A4%A`) must not stop the board from loading.
  function linkedCard() {
    if (location.hash.indexOf("#card-") !== 0) return null;
    var id;
    try {
      id = decodeURIComponent(location.hash.slice(1));
    } catch (e) {
      return null;
    }
    return document.getElementById(id);
  }

  function card(item) {
    var alert = isAlert(item);
    var level = LEVELS.indexOf(item.level) >= 0 ? item.level : "unknown";
    var node = el("article", "card");
    node.dataset.id = item.id;
    // Sentry's issue link points at /#card-<id>.
    node.id = "card-" + item.id;
    node.tabIndex = 0;
    node.setAttribute("draggable", alert ? "false" : "true");
    if (location.hash === "#" + node.id) node.classList.add("linked");
    if (item.ignored) node.classList.add("ignored");
    var loud = !alert && !item.ignored && item.status !== "resolved" ? LOUD_SUBSTATUS[item.substatus] : null;
    if (loud) node.classList.add(loud);
    if (alert) {
      var kind = /^[a-z_]+$/.test(item.kind) ? item.kind : "alert";
      node.classList.add("alert", "kind-" + kind);
      node.title = "Alert cards follow Sentry and cannot be changed here";
    } else {
      node.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight Enter");
    }

    var head = el("div", "card-head");
    head.appendChild(el("span", "level level-" + level, item.level || "unknown"));
    var label = item.short_id || (alert ? "Sentry" : item.id);
    var sid = el("span", "short-id");
    var href = safeUrl(item.permalink);
    if (href) {
      var a = el("a", null, label);
      a.href = href;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      a.draggable = false;
      sid.appendChild(a);
    } else {
      sid.textContent = label;
    }
    head.appendChild(sid);
    if (loud) {
      var badge = el("span", "tag tag-substatus tag-" + loud, loud);
      badge.title = loud === "escalating" ? "Sentry: escalating (more events than forecast)" : "Sentry: regressed (came back after being resolved)";
      head.appendChild(badge);
    }
    if (item.ignored) {
      var ign = el("span", "tag tag-ignored", "ignored");
      if (SUBSTATUS_LABELS[item.substatus]) ign.title = "Archived " + SUBSTATUS_LABELS[item.substatus];
      head.appendChild(ign);
      if (item.substatus === "archived_until_escalating") head.appendChild(el("span", "tag tag-until", "until escalating"));
    }
    if (!alert && item.priority) {
      var known = PRIORITIES.indexOf(item.priority) >= 0;
      var prio = el("span", "tag priority priority-" + (known ? item.priority : "other"), item.priority);
      prio.title = "Sentry priority: " + item.priority;
      head.appendChild(prio);
    }
    if (alert) head.appendChild(el("span", "tag tag-kind", KIND_LABELS[item.kind] || item.kind));
    if (!alert) {
      var menuButton = el("button", "card-menu", "⋯");
      menuButton.type = "button";
      menuButton.setAttribute("aria-haspopup", "menu");
      menuButton.setAttribute("aria-expanded", "false");
      menuButton.setAttribute("aria-label", "Actions for " + label);
      menuButton.title = "Actions";
      head.appendChild(menuButton);
    }
    node.appendChild(head);

    node.appendChild(el("h3", "card-title", item.title || "(no title)"));
    if (item.culprit) node.appendChild(el("p", "culprit", item.culprit));

    var meta = el("div", "meta");
    var project = el("span", "project", item.project || item.project_name || "—");
    if (item.project_name) project.title = item.project_name;
    meta.appendChild(project);
    if (alert) {
      if (item.rule) meta.appendChild(el("span", "rule", item.rule));
      if (item.trigger_count != null) meta.appendChild(el("span", "events", plural(item.trigger_count, "trigger", "triggers")));
      meta.appendChild(timeEl("last-seen", "triggered", item.last_seen));
      meta.appendChild(timeEl("age", "first triggered", item.first_seen));
    } else {
      meta.appendChild(assigneeEl(item.assignee));
      meta.appendChild(eventsEl(item));
      meta.appendChild(timeEl("last-seen", "seen", item.last_seen));
      meta.appendChild(timeEl("age", "first seen", item.first_seen));
    }
    node.appendChild(meta);
    if (item.comment_count > 0) node.appendChild(commentsEl(item));
    if (!alert) node.appendChild(historyEl(item));

    var wb = writebackEl(item.writeback);
    if (wb) node.appendChild(wb);
    if (item.writeback && item.writeback.state === "failed") node.classList.add("writeback-failed");
    var failed = cardErrors[item.id];
    if (failed && failed.until > Date.now()) {
      var err = el("p", "card-error", failed.text);
      err.setAttribute("role", "alert");
      node.appendChild(err);
      node.classList.add("action-failed");
    }
    return node;
  }

  // ---- filters -----------------------------------------------------------------

  function matches(item) {
    if (filter.project && (item.project || "") !== filter.project) return false;
    if (filter.level && item.level !== filter.level) return false;
    // ?priority= may be a comma list (as /api/items takes it).
    if (filter.priority && filter.priority.split(",").indexOf(item.priority || "") < 0) return false;
    if (filter.assignee === "none") {
      if (item.assignee) return false;
    } else if (filter.assignee) {
      if (!item.assignee || assigneeKey(item.assignee) !== filter.assignee) return false;
    }
    var q = filter.q.trim().toLowerCase();
    if (q) {
      var a = item.assignee || {};
      var hay = [item.title, item.short_id, item.id, item.culprit, item.project, item.project_name,
        item.rule, a.name, a.email].filter(Boolean).join(" ").toLowerCase();
      var words = q.split(/\s+/);
      for (var i = 0; i < words.length; i++) if (hay.indexOf(words[i]) < 0) return false;
    }
    return true;
  }

  function filtering() {
    return FILTERS.some(function (k) { return filter[k].trim() !== ""; });
  }

  // Rebuilds a select's dynamic options only when the set changed, so a poll
  // never closes a dropdown someone has open.
  function setOptions(select, fixed, options, value) {
    var seen = {};
    options = options.filter(function (o) {
      if (seen[o.value]) return false;
      seen[o.value] = true;
      return true;
    });
    if (value && !seen[value]) options.push({ value: value, text: value });
    options.sort(function (x, y) { return x.text.localeCompare(y.text); });
    var key = JSON.stringify(options);
    if (select.dataset.key !== key) {
      select.dataset.key = key;
      var nodes = fixed.map(function (o) { var n = el("option", null, o.text); n.value = o.value; return n; });
      options.forEach(function (o) {
        var n = el("option", null, o.text);
        n.value = o.value;
        nodes.push(n);
      });
      select.replaceChildren.apply(select, nodes);
    }
    select.value = value;
  }

  function updateFilterOptions() {
    var projects = [], people = [];
    items.forEach(function (raw) {
      var item = view(raw);
      if (item.project) projects.push({ value: item.project, text: item.project });
      if (item.assignee) people.push({ value: assigneeKey(item.assignee), text: assigneeLabel(item.assignee) });
    });
    setOptions($("filter-project"), [{ value: "", text: "all" }], projects, filter.project);
    setOptions($("filter-assignee"), [{ value: "", text: "anyone" }, { value: "none", text: "unassigned" }],
      people, filter.assignee === "none" ? "none" : filter.assignee);
  }

  function writeUrl() {
    var p = new URLSearchParams(location.search);
    FILTERS.forEach(function (k) {
      if (filter[k].trim()) p.set(k, filter[k]);
      else p.delete(k);
    });
    var qs = p.toString();
    history.replaceState(history.state, "", location.pathname + (qs ? "?" + qs : "") + location.hash);
  }

  // ---- rendering ---------------------------------------------------------------

  function captureFocus() {
    var a = document.activeElement;
    var c = a && a.closest ? a.closest("article.card") : null;
    if (!c) return null;
    var what = "card";
    if (a.classList.contains("card-menu")) what = "menu";
    else if (a.dataset && a.dataset.action) what = "action:" + a.dataset.action;
    else if (a.tagName === "SUMMARY") what = "summary";
    else if (a.tagName === "A") what = "link";
    return { id: c.dataset.id, what: what };
  }

  function restoreFocus(f) {
    if (!f) return;
    var c = cardEl(f.id);
    if (!c) return;
    var target = c;
    if (f.what === "menu") target = c.querySelector(".card-menu") || c;
    else if (f.what === "summary") target = c.querySelector("summary") || c;
    else if (f.what === "link") target = c.querySelector(".short-id a") || c;
    else if (f.what.indexOf("action:") === 0) {
      target = c.querySelector('.menu [data-action="' + CSS.escape(f.what.slice(7)) + '"]') || c;
    }
    target.focus();
  }

  function render() {
    if (dragId) {
      renderDeferred = true;
      return;
    }
    renderDeferred = false;
    var focus = captureFocus();
    var groups = { TODO: [], DOING: [], DONE: [] };
    var shown = 0;
    items.forEach(function (raw) {
      var item = view(raw);
      if (!matches(item)) return;
      shown++;
      // An unknown column still shows up somewhere rather than vanishing.
      (groups[item.column] || groups.TODO).push(item);
    });
    var empty = loaded ? (filtering() ? "No matching issues" : "No issues") : "Loading…";
    COLUMNS.forEach(function (name) {
      var col = board.querySelector('[data-column="' + name + '"]');
      var list = col.querySelector(".cards");
      var cards = groups[name].map(card);
      if (!cards.length) cards = [el("p", "empty", empty)];
      list.replaceChildren.apply(list, cards);
      col.querySelector(".count").textContent = String(groups[name].length);
    });
    $("shown").textContent = filtering() && loaded ? shown + " of " + items.length + " shown" : "";
    if (menuFor) {
      var c = cardEl(menuFor);
      if (c) openMenu(c, false);
      else menuFor = null;
    }
    restoreFocus(focus);
  }

  function showSynced() {
    var node = $("synced");
    var rel = SK.relative(syncedAt);
    node.textContent = "Last synced " + (rel || "never");
    node.title = rel ? "Sentry sync: " + new Date(syncedAt).toLocaleString() : "No Sentry sync has finished yet";
  }

  // Relative times age between renders; a 304 must not leave "just now" forever.
  function retime() {
    board.querySelectorAll("time[datetime]").forEach(function (t) {
      var rel = SK.relative(t.dateTime);
      if (rel) t.textContent = ((t.dataset.label || "") + " " + rel).trim();
    });
    showSynced();
  }

  // ---- menu ------------------------------------------------------------------

  function closeMenu() {
    var open = board.querySelector(".menu");
    if (open) {
      var btn = open.parentNode.querySelector(".card-menu");
      if (btn) btn.setAttribute("aria-expanded", "false");
      open.parentNode.classList.remove("menu-open");
      open.remove();
    }
    menuFor = null;
  }

  function openMenu(c, focusFirst) {
    closeMenu();
    var item = findItem(c.dataset.id);
    var btn = c.querySelector(".card-menu");
    if (!item || isAlert(item) || !btn) return;
    var menu = el("div", "menu");
    menu.setAttribute("role", "menu");
    menu.setAttribute("aria-label", "Card actions");
    function add(action, text, disabled) {
      var b = el("button", "menu-item", text);
      b.type = "button";
      b.setAttribute("role", "menuitem");
      b.dataset.action = action;
      if (disabled) b.disabled = true;
      menu.appendChild(b);
    }
    COLUMNS.forEach(function (col) {
      add("move-" + col, "Move to " + col + (col === "DOING" ? "…" : ""), item.column === col);
    });
    if (item.ignored) add("unignore", "Un-ignore");
    else {
      add("ignore", "Ignore");
      add("archive-escalating", "Archive until escalating");
    }
    add("assign", "Assign…");
    if (item.assignee) add("unassign", "Unassign");
    c.appendChild(menu);
    c.classList.add("menu-open");
    btn.setAttribute("aria-expanded", "true");
    menuFor = item.id;
    if (focusFirst) {
      var first = menu.querySelector("button:not([disabled])");
      if (first) first.focus();
    }
  }

  function menuKey(e, menu) {
    var buttons = Array.prototype.slice.call(menu.querySelectorAll("button:not([disabled])"));
    var i = buttons.indexOf(document.activeElement);
    var c = menu.closest("article.card");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      var n = buttons.length;
      var down = e.key === "ArrowDown";
      if (n) buttons[i < 0 ? (down ? 0 : n - 1) : (i + (down ? 1 : n - 1)) % n].focus();
    } else if (e.key === "Home" || e.key === "End") {
      e.preventDefault();
      if (buttons.length) buttons[e.key === "Home" ? 0 : buttons.length - 1].focus();
    } else if (e.key === "Escape") {
      e.preventDefault();
      closeMenu();
      var b = c && c.querySelector(".card-menu");
      if (b) b.focus();
    } else if (e.key === "Tab") {
      closeMenu();
    }
    e.stopPropagation();
  }

  // ---- actions -----------------------------------------------------------------

  // What the card will look like once the server applied `body` (the same
  // rule as the store: resolved -> DONE, assigned -> DOING, else TODO).
  function predict(item, body) {
    var status = item.status;
    var assignee = item.assignee || null;
    var substatus = item.substatus || null;
    if ("status" in body) {
      status = body.status;
      substatus = body.substatus || null;
    }
    if ("assignee" in body) assignee = body.assignee;
    return {
      status: status,
      substatus: substatus,
      ignored: status === "ignored",
      assignee: assignee,
      column: status === "resolved" ? "DONE" : assignee ? "DOING" : "TODO",
      writeback: { state: "pending", error: null, at: new Date().toISOString() },
    };
  }

  function act(id, body, what) {
    var item = findItem(id);
    if (!item || isAlert(item)) return;
    var patch = predict(item, body);
    var prev = overlays[id];
    var token = {};
    overlays[id] = { patch: Object.assign({}, prev ? prev.patch : {}, patch), doneSeq: Infinity, token: token };
    delete cardErrors[id];
    render();
    SK.api("/api/items/" + encodeURIComponent(id) + "/actions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    })
      .then(function (res) {
        if (!res.ok) return SK.errorText(res).then(function (t) { throw new Error(t); });
        // A later action on the same card keeps its patch until it finishes.
        if (overlays[id] && overlays[id].token === token) overlays[id].doneSeq = seq + 1;
        setBanner("action", null);
        refresh();
      })
      .catch(function (err) {
        if (err.unauthenticated) return;
        var text = "Could not " + what + ": " + (err && err.message ? err.message : err);
        if (overlays[id] && overlays[id].token === token) delete overlays[id];
        cardErrors[id] = { text: text, until: Date.now() + CARD_ERROR_MS };
        setTimeout(function () {
          if (cardErrors[id] && cardErrors[id].until <= Date.now()) {
            delete cardErrors[id];
            render();
          }
        }, CARD_ERROR_MS + 50);
        setBanner("action", (item.short_id || item.title || id) + ": " + text);
        render();
        // The server's list did not change, so a conditional poll would
        // answer 304 and keep nothing fresh: ask for the whole list again.
        etag = null;
        refresh();
      });
  }

  function moveTo(id, target) {
    var item = findItem(id);
    if (!item || isAlert(item) || item.column === target || COLUMNS.indexOf(target) < 0) return;
    if (target === "DONE") {
      act(id, { status: "resolved" }, "move to DONE");
    } else if (target === "TODO") {
      var body = {};
      if (item.column === "DONE" || item.status === "resolved") body.status = "unresolved";
      if (item.assignee) body.assignee = null;
      if (Object.keys(body).length) act(id, body, "move to TODO");
    } else {
      pickAssignee(id, "Move to DOING: assign").then(function (a) {
        var now = findItem(id);
        if (!a || !now) return;
        var body = { assignee: a };
        if (now.column === "DONE" || now.status === "resolved") body.status = "unresolved";
        act(id, body, "move to DOING");
      });
    }
  }

  function perform(id, action) {
    if (action.indexOf("move-") === 0) moveTo(id, action.slice(5));
    else if (action === "ignore") act(id, { status: "ignored" }, "ignore");
    else if (action === "archive-escalating") {
      act(id, { status: "ignored", substatus: "archived_until_escalating" }, "archive until escalating");
    }
    else if (action === "unignore") act(id, { status: "unresolved" }, "un-ignore");
    else if (action === "unassign") act(id, { assignee: null }, "unassign");
    else if (action === "assign") {
      pickAssignee(id).then(function (a) {
        if (a) act(id, { assignee: a }, "assign");
      });
    }
  }

  // The assignee dialog: resolves to {type,id,name,email} or null (cancelled).
  function pickAssignee(id, heading) {
    var dialog = $("assignee-dialog");
    var select = $("assignee-select");
    var ok = $("assignee-ok");
    var errorBox = $("assignee-error");
    if (dialog.open) return Promise.resolve(null);
    var item = findItem(id) || {};
    var token = ++pickToken;
    var list = [];
    $("assignee-heading").textContent = heading || "Assign";
    $("assignee-card").textContent = (item.short_id ? item.short_id + " · " : "") + (item.title || "");
    select.replaceChildren(el("option", null, "Loading…"));
    select.disabled = true;
    ok.disabled = true;
    errorBox.hidden = true;

    function fail(text) {
      errorBox.textContent = text;
      errorBox.hidden = false;
      select.replaceChildren(el("option", null, "—"));
    }

    SK.api("/api/items/" + encodeURIComponent(id) + "/assignees", { cache: "no-store" })
      .then(function (res) {
        if (!res.ok) return SK.errorText(res).then(function (t) { throw new Error(t); });
        return res.json();
      })
      .then(function (body) {
        if (token !== pickToken) return;
        list = (body && Array.isArray(body.assignees) ? body.assignees : []).filter(function (a) {
          return a && a.id != null;
        });
        if (!list.length) return fail("No one to assign in this organization.");
        var current = item.assignee ? assigneeKey(item.assignee) : null;
        var options = list.map(function (a, i) {
          var text = assigneeLabel(a) + (a.type === "team" ? " (team)" : a.email && a.email !== a.name ? " <" + a.email + ">" : "");
          var o = el("option", null, text);
          o.value = String(i);
          if (current && assigneeKey(a) === current) o.selected = true;
          return o;
        });
        select.replaceChildren.apply(select, options);
        select.disabled = false;
        ok.disabled = false;
        select.focus();
      })
      .catch(function (err) {
        if (token !== pickToken || err.unauthenticated) return;
        fail("Could not load assignees (" + (err && err.message ? err.message : err) + ").");
      });

    dialog.returnValue = "";
    if (!dialog.open) dialog.showModal();
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        pickToken++;
        var chosen = dialog.returnValue === "ok" && !select.disabled ? list[Number(select.value)] : null;
        // The card may have been re-rendered while the dialog was open.
        var c = cardEl(id);
        if (c && (document.activeElement === document.body || !document.activeElement)) c.focus();
        resolve(chosen ? {
          type: chosen.type === "team" ? "team" : "user",
          id: String(chosen.id),
          name: chosen.name != null ? chosen.name : null,
          email: chosen.email != null ? chosen.email : null,
        } : null);
      });
    });
  }

  // ---- events ------------------------------------------------------------------

  board.addEventListener("click", function (e) {
    var t = e.target;
    var action = t.closest(".menu [data-action]");
    if (action) {
      var c = action.closest("article.card");
      closeMenu();
      if (c) c.focus();
      if (c && !action.disabled) perform(c.dataset.id, action.dataset.action);
      return;
    }
    var btn = t.closest(".card-menu");
    if (btn) {
      var card = btn.closest("article.card");
      if (menuFor === card.dataset.id) closeMenu();
      else openMenu(card, e.detail === 0); // keyboard "click" focuses the first item
    }
  });

  document.addEventListener("click", function (e) {
    if (menuFor && !e.target.closest(".menu") && !e.target.closest(".card-menu")) closeMenu();
  });

  board.addEventListener("keydown", function (e) {
    var menu = e.target.closest(".menu");
    if (menu) return menuKey(e, menu);
    var c = e.target;
    if (!c.matches || !c.matches("article.card") || e.altKey || e.ctrlKey || e.metaKey) return;
    if (c.classList.contains("alert")) return;
    var item = findItem(c.dataset.id);
    if (!item) return;
    var at = COLUMNS.indexOf(item.column);
    if (e.key === "ArrowRight" || e.key === "ArrowLeft") {
      e.preventDefault();
      var to = COLUMNS[at + (e.key === "ArrowRight" ? 1 : -1)];
      if (to) moveTo(item.id, to);
    } else if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      openMenu(c, true);
    }
  });

  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && menuFor) closeMenu();
  });

  // <details> toggles do not bubble; remember which comments are open so a
  // re-render keeps them open.
  board.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.matches || !d.matches("details.comments")) return;
    var c = d.closest("article.card");
    if (!c) return;
    if (d.open) {
      openComments[c.dataset.id] = true;
      loadComments(c.dataset.id, d.dataset.version || "");
    } else delete openComments[c.dataset.id];
  }, true);

  // ---- drag & drop -------------------------------------------------------------

  function clearDropTargets() {
    board.querySelectorAll(".column.drop-target").forEach(function (col) { col.classList.remove("drop-target"); });
  }

  function endDrag() {
    board.querySelectorAll(".card.dragging").forEach(function (c) { c.classList.remove("dragging"); });
    clearDropTargets();
    dragId = null;
    if (renderDeferred) render();
  }

  board.addEventListener("dragstart", function (e) {
    var c = e.target.closest && e.target.closest("article.card");
    if (!c || c.classList.contains("alert")) {
      if (c) e.preventDefault();
      return;
    }
    closeMenu();
    dragId = c.dataset.id;
    c.classList.add("dragging");
    if (e.dataTransfer) {
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", dragId);
    }
  });

  board.addEventListener("dragover", function (e) {
    var col = e.target.closest && e.target.closest(".column");
    if (!col || !dragId) return;
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("drop-target")) {
      clearDropTargets();
      col.classList.add("drop-target");
    }
  });

  board.addEventListener("dragleave", function (e) {
    var col = e.target.closest && e.target.closest(".column");
    if (col && !col.contains(e.relatedTarget)) col.classList.remove("drop-target");
  });

  board.addEventListener("drop", function (e) {
    var col = e.target.closest && e.target.closest(".column");
    if (!col) return;
    e.preventDefault();
    var id = dragId || (e.dataTransfer ? e.dataTransfer.getData("text/plain") : "");
    endDrag();
    if (id) moveTo(id, col.dataset.column);
  });

  board.addEventListener("dragend", endDrag);

  // ---- filters UI --------------------------------------------------------------

  var form = $("filters");
  $("filter-level").value = LEVELS.indexOf(filter.level) >= 0 ? filter.level : "";
  (function () {
    // A comma list from the URL (?priority=high,medium) gets an option of its own.
    var select = $("filter-priority");
    var wanted = filter.priority.split(",").filter(function (p) { return PRIORITIES.indexOf(p) >= 0; }).join(",");
    if (wanted && PRIORITIES.indexOf(wanted) < 0) {
      var o = el("option", null, wanted.replace(/,/g, " or "));
      o.value = wanted;
      select.appendChild(o);
    }
    filter.priority = wanted;
    select.value = wanted;
  })();
  $("filter-q").value = filter.q;
  updateFilterOptions();

  function onFilter() {
    filter.project = $("filter-project").value;
    filter.level = $("filter-level").value;
    filter.priority = $("filter-priority").value;
    filter.assignee = $("filter-assignee").value;
    filter.q = $("filter-q").value;
    writeUrl();
    render();
  }
  form.addEventListener("change", onFilter);
  form.addEventListener("input", onFilter);
  form.addEventListener("submit", function (e) { e.preventDefault(); });

  // ---- loading -------------------------------------------------------------------

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
    SK.api("/api/installations", { cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : null; })
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

  function refresh() {
    // A slow response must not stack up a second request behind it.
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    again = false;
    clearTimeout(timer);
    var mine = ++seq;
    if (Date.now() - lastInstallations >= INSTALLATIONS_MS) refreshInstallations();
    var url = ORG ? "/api/items?org=" + encodeURIComponent(ORG) : "/api/items";
    // With our own If-None-Match the browser passes a 304 through untouched;
    // without a tag, "no-cache" still makes it ask the worker.
    var opts = etag ? { headers: { "If-None-Match": etag } } : { cache: "no-cache" };
    SK.api(url, opts)
      .then(function (res) {
        if (res.status === 304) return null;
        if (!res.ok) return SK.errorText(res).then(function (t) { throw new Error(t); });
        var tag = res.headers.get("ETag");
        return res.json().then(function (body) {
          if (!body || !Array.isArray(body.items)) throw new Error("unexpected response");
          etag = tag;
          return body;
        });
      })
      .then(function (body) {
        var settled = settle(mine);
        if (body) {
          items = body.items.filter(function (i) { return i && i.id != null; });
          items.forEach(function (i) { i.id = String(i.id); });
          syncedAt = body.synced_at || null;
          var first = !loaded;
          loaded = true;
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
        setBanner("load", "Could not load issues (" + (err && err.message ? err.message : err) + "). Retrying every 10 s.");
      })
      .then(function () {
        inFlight = false;
        if (again) refresh();
        else schedule();
      });
  }

  // Background tabs get throttled timers, so catch up as soon as the tab is seen.
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });

  if (ORG) $("org").textContent = ORG;
  SK.session();
  render();
  refresh();
})();
