// Keyboard shortcuts (press ? for the list). No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  var pending = null;
  var jumps = { h: "/", t: "/tickets", r: "/review", i: "/incidents", n: "/news" };
  function typing(el) {
    return el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
  }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(document.activeElement)) { return; }
    var key = e.key;
    if (pending === "g") {
      pending = null;
      if (jumps[key]) { e.preventDefault(); window.location.href = jumps[key]; }
      return;
    }
    if (key === "g") { pending = "g"; setTimeout(function () { pending = null; }, 1200); return; }
    if (key === "?") { var box = document.getElementById("shortcuts"); box.hidden = !box.hidden; return; }
    var target = document.querySelector('[data-shortcut="' + key + '"]');
    if (target) {
      e.preventDefault();
      if (target.tagName === "TEXTAREA" || target.tagName === "INPUT") { target.focus(); } else { target.click(); }
    }
  });
})();
