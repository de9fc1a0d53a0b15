// Drag and drop between columns (HTML5). The board does not re-render under
// a drag: render() waits for the drop (state.renderDeferred).

import { board, state } from "./state.js";
import { render } from "./render.js";
import { closeMenu } from "./menu.js";
import { moveTo } from "./actions.js";

function clearDropTargets() {
  board.querySelectorAll(".column.drop-target").forEach(function (col) { col.classList.remove("drop-target"); });
}

function endDrag() {
  board.querySelectorAll(".card.dragging").forEach(function (c) { c.classList.remove("dragging"); });
  clearDropTargets();
  state.dragId = null;
  if (state.renderDeferred) render();
}

export function watchDrag() {
  board.addEventListener("dragstart", function (e) {
    var c = e.target.closest && e.target.closest("article.card");
    if (!c || c.classList.contains("alert")) {
      if (c) e.preventDefault();
      return;
    }
    closeMenu();
    state.dragId = c.dataset.id;
    c.classList.add("dragging");
    if (e.dataTransfer) {
      e.dataTransfer.effectAllowed = "move";
      e.dataTransfer.setData("text/plain", state.dragId);
    }
  });

  board.addEventListener("dragover", function (e) {
    var col = e.target.closest && e.target.closest(".column");
    if (!col || !state.dragId) return;
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
    var id = state.dragId || (e.dataTransfer ? e.dataTransfer.getData("text/plain") : "");
    endDrag();
    if (id) moveTo(id, col.dataset.column);
  });

  board.addEventListener("dragend", endDrag);
}
