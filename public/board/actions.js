// What the board's gestures do: an optimistic patch on the card, the
// action posted to the worker, and the card's own error when it fails.

import { api, checked, reason } from "../lib/api.js";
import { CARD_ERROR_MS, COLUMNS, state, overlays, cardErrors, findItem, isAlert, setBanner } from "./state.js";
import { render } from "./render.js";
import { refresh } from "./load.js";
import { pickAssignee } from "./assign.js";

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
  api("/api/items/" + encodeURIComponent(id) + "/actions", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  })
    .then(function (res) {
      if (!res.ok) return checked(res);
      // A later action on the same card keeps its patch until it finishes.
      if (overlays[id] && overlays[id].token === token) overlays[id].doneSeq = state.seq + 1;
      setBanner("action", null);
      refresh();
    })
    .catch(function (err) {
      if (err.unauthenticated) return;
      var text = "Could not " + what + ": " + reason(err);
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
      state.etag = null;
      refresh();
    });
}

export function moveTo(id, target) {
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

export function perform(id, action) {
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
