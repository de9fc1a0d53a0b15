// The Kanban board for /api/items, as ES modules under public/board/:
//   state.js    what the server sent, optimistic patches, filters, lookups
//   cards.js    one card's element (format.js: its small texts;
//               details.js: its comments and history, loaded when opened)
//   filters.js  the filter bar and the filters in the address
//   render.js   the columns from the state, keeping focus and the open menu
//   menu.js     a card's action menu        actions.js  what a gesture does
//   assign.js   the assignee dialog         drag.js     drag and drop
//   load.js     polling /api/items and the installations' errors
// This entry wires the board's clicks and keys to them and starts loading.

import { $ } from "./lib/dom.js";
import { session } from "./lib/api.js";
import { COLUMNS, ORG, board, state, findItem } from "./board/state.js";
import { watchDetails } from "./board/details.js";
import { watchFilters } from "./board/filters.js";
import { render } from "./board/render.js";
import { closeMenu, openMenu, menuKey } from "./board/menu.js";
import { moveTo, perform } from "./board/actions.js";
import { watchDrag } from "./board/drag.js";
import { refresh } from "./board/load.js";

watchDetails();

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
    if (state.menuFor === card.dataset.id) closeMenu();
    else openMenu(card, e.detail === 0); // keyboard "click" focuses the first item
  }
});

document.addEventListener("click", function (e) {
  if (state.menuFor && !e.target.closest(".menu") && !e.target.closest(".card-menu")) closeMenu();
});

// Arrows move a focused card a column; Enter or Space opens its menu.
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
  if (e.key === "Escape" && state.menuFor) closeMenu();
});

watchDrag();
watchFilters(render);

// Background tabs get throttled timers, so catch up as soon as the tab is seen.
document.addEventListener("visibilitychange", function () {
  if (!document.hidden) refresh();
});

if (ORG) $("org").textContent = ORG;
session();
render();
refresh();
