// A card's action menu (⋯, or Enter on a focused card): opening, closing and
// moving through it with the keyboard. What an item does is in actions.js.

import { el } from "../lib/dom.js";
import { COLUMNS, board, state, findItem, isAlert } from "./state.js";

export function closeMenu() {
  var open = board.querySelector(".menu");
  if (open) {
    var btn = open.parentNode.querySelector(".card-menu");
    if (btn) btn.setAttribute("aria-expanded", "false");
    open.parentNode.classList.remove("menu-open");
    open.remove();
  }
  state.menuFor = null;
}

export function openMenu(c, focusFirst) {
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
  state.menuFor = item.id;
  if (focusFirst) {
    var first = menu.querySelector("button:not([disabled])");
    if (first) first.focus();
  }
}

export function menuKey(e, menu) {
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
