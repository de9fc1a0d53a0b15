// The JSON API, same origin, and the session every page shares. A 401 sends
// the user to the login page and rejects with err.unauthenticated set, so
// callers show nothing.

import { $ } from "./dom.js";

var leaving = false;

// The API answered 401: the session is gone, so log in again and come back.
export function toLogin() {
  if (leaving) return;
  leaving = true;
  location.assign("/login?next=" + encodeURIComponent(location.pathname + location.search));
}

export function api(url, opts) {
  opts = opts || {};
  var headers = opts.headers || {};
  if (!headers.Accept) headers.Accept = "application/json";
  opts.headers = headers;
  opts.credentials = "same-origin";
  return fetch(url, opts).then(function (res) {
    if (res.status === 401) {
      toLogin();
      var err = new Error("not logged in");
      err.unauthenticated = true;
      throw err;
    }
    return res;
  });
}

// The message of an error answer ({"error","message"}), or "HTTP <status>".
export function errorText(res) {
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
}

// A 2xx answer as it is; any other rejects with errorText's message.
export function checked(res) {
  if (!res.ok) return errorText(res).then(function (t) { throw new Error(t); });
  return res;
}

// The body of a 2xx answer; any other rejects with errorText's message.
export function json(res) {
  return Promise.resolve(checked(res)).then(function (r) { return r.json(); });
}

// The body of a 2xx answer, or null: for what a page can do without.
export function jsonOrNull(res) {
  return res.ok ? res.json() : null;
}

// What a banner says of a failure.
export function reason(err) {
  return err && err.message ? err.message : err;
}

// The header every page shares: who is logged in, the logout button in
// token mode and the banner when nothing protects the dashboard.
export function session() {
  return api("/api/session", { cache: "no-store" })
    .then(jsonOrNull)
    .then(function (s) {
      if (!s) return null;
      var banner = $("unprotected");
      if (banner) banner.hidden = !s.unprotected;
      var logout = $("logout");
      if (logout) logout.hidden = s.mode !== "token";
      var user = $("user");
      if (user && typeof s.user === "string" && s.user) {
        user.textContent = s.user;
        user.hidden = false;
      }
      return s;
    })
    .catch(function () { return null; });
}
