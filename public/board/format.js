// Small pieces of a card's text: counts, initials, relative times.

import { el, relative } from "../lib/dom.js";

export function initials(name) {
  var parts = String(name).trim().split(/[\s._@-]+/).filter(Boolean);
  var letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : String(name).slice(0, 2);
  return letters.toUpperCase();
}

export function plural(n, one, many) {
  return Number(n).toLocaleString() + " " + (Number(n) === 1 ? one : many);
}

// "<label> 3h ago", kept fresh by render's retime() through data-label.
export function timeEl(className, label, iso) {
  var rel = relative(iso);
  var node = el("time", className, (label + " " + (rel || "unknown")).trim());
  if (rel) {
    node.dateTime = iso;
    node.dataset.label = label;
    node.title = new Date(iso).toLocaleString();
  }
  return node;
}
