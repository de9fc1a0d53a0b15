// Drawing the board from the state: the columns, their counts, the open
// menu and the focus, which a re-render must not lose.

import { $, el, relative } from "../lib/dom.js";
import { COLUMNS, board, state, view, cardEl } from "./state.js";
import { card } from "./cards.js";
import { matches, filtering } from "./filters.js";
import { openMenu } from "./menu.js";

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

export function render() {
  if (state.dragId) {
    state.renderDeferred = true;
    return;
  }
  state.renderDeferred = false;
  var focus = captureFocus();
  var groups = { TODO: [], DOING: [], DONE: [] };
  var shown = 0;
  state.items.forEach(function (raw) {
    var item = view(raw);
    if (!matches(item)) return;
    shown++;
    // An unknown column still shows up somewhere rather than vanishing.
    (groups[item.column] || groups.TODO).push(item);
  });
  var empty = state.loaded ? (filtering() ? "No matching issues" : "No issues") : "Loading…";
  COLUMNS.forEach(function (name) {
    var col = board.querySelector('[data-column="' + name + '"]');
    var list = col.querySelector(".cards");
    var cards = groups[name].map(card);
    if (!cards.length) cards = [el("p", "empty", empty)];
    list.replaceChildren.apply(list, cards);
    col.querySelector(".count").textContent = String(groups[name].length);
  });
  $("shown").textContent = filtering() && state.loaded ? shown + " of " + state.items.length + " shown" : "";
  if (state.menuFor) {
    var c = cardEl(state.menuFor);
    if (c) openMenu(c, false);
    else state.menuFor = null;
  }
  restoreFocus(focus);
}

function showSynced() {
  var node = $("synced");
  var rel = relative(state.syncedAt);
  node.textContent = "Last synced " + (rel || "never");
  node.title = rel ? "Sentry sync: " + new Date(state.syncedAt).toLocaleString() : "No Sentry sync has finished yet";
}

// Relative times age between renders; a 304 must not leave "just now" forever.
export function retime() {
  board.querySelectorAll("time[datetime]").forEach(function (t) {
    var rel = relative(t.dateTime);
    if (rel) t.textContent = ((t.dataset.label || "") + " " + rel).trim();
  });
  showSynced();
}
