// The login form: shows "Wrong token" after a failed attempt and carries the
// page to come back to. Only a local path is kept, never another site.
"use strict";

(function () {
  var params = new URLSearchParams(location.search);
  var form = document.getElementById("login-form");
  var next = params.get("next") || "";
  // "//host" and "/\\host" leave the site; browsers drop tabs and newlines,
  // so "/\t/host" would too.
  var local = /^\/(?![\/\\])[^\x00-\x1f\\]*$/.test(next);
  form.elements.next.value = local ? next : "/";
  document.getElementById("login-error").hidden = params.get("error") !== "1";
  form.addEventListener("submit", function () {
    document.getElementById("login-submit").disabled = true;
  });
  // Back from the bfcache after a failed submit: the button must work again.
  window.addEventListener("pageshow", function () {
    document.getElementById("login-submit").disabled = false;
  });
})();
