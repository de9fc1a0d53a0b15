// The assignee dialog: who a card can be assigned to, from Sentry.

import { $, el } from "../lib/dom.js";
import { api, json, reason } from "../lib/api.js";
import { findItem, cardEl, assigneeKey, assigneeLabel } from "./state.js";

var pickToken = 0;
// The assignee dialog: resolves to {type,id,name,email} or null (cancelled).
export function pickAssignee(id, heading) {
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

  api("/api/items/" + encodeURIComponent(id) + "/assignees", { cache: "no-store" })
    .then(json)
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
      fail("Could not load assignees (" + reason(err) + ").");
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
