// Helpers shared by the pages. Untrusted text only ever goes through
// textContent, and only http(s) links are followed.
"use strict";

(function () {
  var leaving = false;

  var SK = {
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

    // "3h ago"; null for a missing or unreadable time.
    relative: function (iso) {
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
    },

    // The API answered 401: the session is gone, so log in again and come back.
    toLogin: function () {
      if (leaving) return;
      leaving = true;
      location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
    },

    // Same-origin fetch of the JSON API. A 401 sends the user to the login
    // page and rejects with err.unauthenticated set, so callers show nothing.
    api: function (url, opts) {
      opts = opts || {};
      var headers = opts.headers || {};
      if (!headers.Accept) headers.Accept = "application/json";
      opts.headers = headers;
      opts.credentials = "same-origin";
      return fetch(url, opts).then(function (res) {
        if (res.status === 401) {
          SK.toLogin();
          var err = new Error("not logged in");
          err.unauthenticated = true;
          throw err;
        }
        return res;
      });
    },

    // The message of an error answer ({"error","message"}), or "HTTP <status>".
    errorText: function (res) {
      return res.text().then(function (text) {
        var msg = "";
        try {
          var body = JSON.parse(text);
          msg = (body && (body.message || body.error)) || "";
        } catch (e) {
          msg = text.length < 200 ? text.trim() : "";
        }
        return "HTTP " + res.status + (msg ? ": " + msg : "");
      }, function () {
        return "HTTP " + res.status;
      });
    },

    // The header every page shares: who is logged in, the logout button in
    // token mode and the banner when nothing protects the dashboard.
    session: function () {
      return SK.api("/api/session", { cache: "no-store" })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (s) {
          if (!s) return null;
          var banner = document.getElementById("unprotected");
          if (banner) banner.hidden = !s.unprotected;
          var logout = document.getElementById("logout");
          if (logout) logout.hidden = s.mode !== "token";
          var user = document.getElementById("user");
          if (user && typeof s.user === "string" && s.user) {
            user.textContent = s.user;
            user.hidden = false;
          }
          return s;
        })
        .catch(function () { return null; });
    },
  };

  window.SK = SK;
})();
