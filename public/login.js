// The login form: shows "Wrong token" after a failed attempt and carries the
// page to come back to. Only a local path is kept, never another site.
// A module like the other pages' scripts; it imports nothing.

var params = new URLSearchParams(location.search);
var form = document.getElementById("login-form");
var next = params.get("next") || "";
// "//host" and "/\\host" leave the site; browsers drop tabs and newlines,
// so "/\t/host" would too.
var local = /^\/(?![\/\\])[^\x00-\x1f\\]*$/.test(next);
form.elements.next.value = local ? next : "/";
document.getElementById("login-error").hidden = params.get("error") !== "1";
// `make dev` prints /login#token=…: log in with it at once. The fragment
// is dropped from the address first, so it stays out of the history.
var link = /^#token=([^&]+)$/.exec(location.hash);
if (link) {
  history.replaceState(history.state, "", location.pathname + location.search);
  var token = "";
  try {
    token = decodeURIComponent(link[1]);
  } catch (e) {
    // A broken escape: leave the form to be filled in by hand.
  }
  if (token && params.get("error") !== "1") {
    form.elements.token.value = token;
    document.getElementById("login-submit").disabled = true;
    form.submit();
  }
}
form.addEventListener("submit", function () {
  document.getElementById("login-submit").disabled = true;
});
// Back from the bfcache after a failed submit: the button must work again.
window.addEventListener("pageshow", function () {
  document.getElementById("login-submit").disabled = false;
});
