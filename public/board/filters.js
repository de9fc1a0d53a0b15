// The filter bar: which cards are shown, the choices its selects offer, and
// the filters in the address (?project=&level=&priority=&assignee=&q=).

import { $, el } from "../lib/dom.js";
import { filterSearch } from "../lib/filters.js";
import { FILTERS, LEVELS, PRIORITIES, filter, state, view, assigneeKey, assigneeLabel } from "./state.js";

export function matches(item) {
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

export function filtering() {
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

export function updateFilterOptions() {
  var projects = [], people = [];
  state.items.forEach(function (raw) {
    var item = view(raw);
    if (item.project) projects.push({ value: item.project, text: item.project });
    if (item.assignee) people.push({ value: assigneeKey(item.assignee), text: assigneeLabel(item.assignee) });
  });
  setOptions($("filter-project"), [{ value: "", text: "all" }], projects, filter.project);
  setOptions($("filter-assignee"), [{ value: "", text: "anyone" }, { value: "none", text: "unassigned" }],
    people, filter.assignee === "none" ? "none" : filter.assignee);
}

function writeUrl() {
  history.replaceState(history.state, "", location.pathname + filterSearch(filter, FILTERS) + location.hash);
}

// Fills the bar from the address, then calls `changed` after every edit.
export function watchFilters(changed) {
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
    changed();
  }
  form.addEventListener("change", onFilter);
  form.addEventListener("input", onFilter);
  form.addEventListener("submit", function (e) { e.preventDefault(); });
}
