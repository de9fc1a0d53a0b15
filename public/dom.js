// Helpers shared by the pages. Untrusted text only ever goes through
// textContent, and only http(s) links are followed.
"use strict";

window.SK = {
  el: function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = String(text);
    return node;
  },

  // A javascript: link from an event must never become clickable.
  safeUrl: function (url) {
    if (typeof url !== "string" || !url) return null;
    try {
      var u = new URL(url, location.href);
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) {
      return null;
    }
  },
};
