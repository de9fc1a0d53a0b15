// One card's element, built from an item. Every piece of issue data goes
// through textContent or attributes: titles come straight from Sentry events
// and can contain arbitrary HTML.

import { el, safeUrl } from "../lib/dom.js";
import { LEVELS, PRIORITIES, isAlert, assigneeLabel, cardErrors } from "./state.js";
import { initials, plural, timeEl } from "./format.js";
import { commentsEl, historyEl } from "./details.js";

// Sentry's lanes a card stands out for in its column (badge + class).
var LOUD_SUBSTATUS = { escalating: "escalating", regressed: "regressed" };
var SUBSTATUS_LABELS = {
  archived_until_escalating: "until escalating",
  archived_until_condition_met: "until condition met",
  archived_forever: "forever",
};
var KIND_LABELS = { event_alert: "event alert", metric_alert: "metric alert" };

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
export function linkedCard() {
  if (location.hash.indexOf("#card-") !== 0) return null;
  var id;
  try {
    id = decodeURIComponent(location.hash.slice(1));
  } catch (e) {
    return null;
  }
  return document.getElementById(id);
}

export function card(item) {
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
