// A card's two folds, each loaded only when opened: its comments and its
// history. A re-render keeps an open fold open.

import { el } from "../lib/dom.js";
import { api, jsonOrNull } from "../lib/api.js";
import { board, cardEl } from "./state.js";
import { plural, timeEl } from "./format.js";

// ---- comments ----------------------------------------------------------------
// /api/items carries only each card's comment_count and comments_version;
// a card's comments are loaded when they are shown, and again only when
// its version moves. id -> {version, list}; id -> version being loaded.
var openComments = {}; // id -> true while its comments are expanded
var commentCache = {};
var commentLoads = {};

export function commentsEl(item) {
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
  api("/api/items/" + encodeURIComponent(id) + "/comments", { cache: "no-store" })
    .then(jsonOrNull)
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

// ---- history -----------------------------------------------------------------
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
  api("/api/items/" + encodeURIComponent(id) + "/history", { cache: "no-store" })
    .then(jsonOrNull)
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

export function historyEl(item) {
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

// <details> toggles do not bubble (hence the capture); remember which folds
// are open so a re-render keeps them open, and load them as they open.
function watch(selector, open, load) {
  board.addEventListener("toggle", function (e) {
    var d = e.target;
    if (!d.matches || !d.matches(selector)) return;
    var c = d.closest("article.card");
    if (!c) return;
    if (d.open) {
      open[c.dataset.id] = true;
      load(c.dataset.id, d.dataset.version || "");
    } else delete open[c.dataset.id];
  }, true);
}

export function watchDetails() {
  watch("details.history", historyOpen, loadHistory);
  watch("details.comments", openComments, loadComments);
}
