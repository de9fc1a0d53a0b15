// The board's state: what the server last sent, the optimistic patches laid
// over it and the filters, with the lookups every other module shares.

import { $ } from "../lib/dom.js";
import { readFilters } from "../lib/filters.js";

export var POLL_MS = 10000;
export var INSTALLATIONS_MS = 60000;
export var CARD_ERROR_MS = 30000;
export var COLUMNS = ["TODO", "DOING", "DONE"];
export var LEVELS = ["fatal", "error", "warning", "info", "debug"];
export var FILTERS = ["project", "level", "priority", "assignee", "q"];
export var PRIORITIES = ["high", "medium", "low"];

export var board = $("board");

// /?org=<slug> (where Sentry's setup page links) shows one organization.
export var ORG = new URLSearchParams(location.search).get("org") || "";
export var filter = readFilters(FILTERS);

export var state = {
  items: [], // the last list the server sent
  syncedAt: null,
  etag: null,
  loaded: false,
  seq: 0, // numbers the /api/items requests
  menuFor: null, // id of the card whose menu is open
  dragId: null,
  renderDeferred: false,
};

// Optimistic changes: id -> {patch, doneSeq}. A patch is laid over the
// server's item until a list requested after its action finished arrives.
export var overlays = {};
export var cardErrors = {}; // id -> {text, until}

export function isAlert(item) {
  return !!item.kind && item.kind !== "issue";
}

export function view(item) {
  var o = overlays[item.id];
  return o ? Object.assign({}, item, o.patch) : item;
}

export function findItem(id) {
  var items = state.items;
  for (var i = 0; i < items.length; i++) if (items[i].id === id) return view(items[i]);
  return null;
}

export function cardEl(id) {
  return board.querySelector('article.card[data-id="' + CSS.escape(String(id)) + '"]');
}

export function assigneeKey(a) {
  return (a.type || "user") + ":" + (a.id != null ? a.id : a.email || a.name || "");
}

export function assigneeLabel(a) {
  var name = a.name || a.email || a.id || "?";
  return a.type === "team" ? "#" + name : String(name);
}

// The #error banner says the last failed action and whether loading fails.
var banners = { load: null, action: null };

export function setBanner(kind, message) {
  banners[kind] = message || null;
  var text = [banners.action, banners.load].filter(Boolean).join(" ");
  var banner = $("error");
  banner.textContent = text;
  banner.hidden = !text;
  $("refreshed").classList.toggle("stale", !!banners.load);
}
