// Building the pages' elements. Untrusted text only ever goes through
// textContent, and only http(s) links are followed.

export function $(id) {
  return document.getElementById(id);
}

export function el(tag, className, text) {
  var node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

// A table cell; an empty value shows as "—".
export function cell(className, text) {
  return el("td", className, text == null || text === "" ? "—" : text);
}

// A javascript: link from an event must never become clickable.
export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    var u = new URL(url, location.href);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
  } catch (e) {
    return null;
  }
}

// "3h ago"; null for a missing or unreadable time.
export function relative(iso) {
  var t = iso ? Date.parse(iso) : NaN;
  if (isNaN(t)) return null;
  // Clamped so a client clock that runs behind never shows "-3m".
  var s = Math.max(0, (Date.now() - t) / 1000);
  if (s < 45) return "just now";
  var steps = [[60, "m"], [24, "h"], [30, "d"], [12, "mo"]];
  var n = s / 60;
  for (var i = 0; i < steps.length; i++) {
    if (n < steps[i][0]) return Math.max(1, Math.floor(n)) + steps[i][1] + " ago";
    n /= steps[i][0];
  }
  return Math.floor(n) + "y ago";
}

// The time in the reader's locale; null for a missing or unreadable one.
export function localTime(iso) {
  var t = iso ? Date.parse(iso) : NaN;
  return isNaN(t) ? null : new Date(t).toLocaleString();
}
