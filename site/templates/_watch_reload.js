/* gantry watch: reload when a new build is ready; show catalog problems in an overlay. */
(function () {
  "use strict";
  var seen = null;
  var box = null;
  function overlay(status) {
    var problems = status.problems || [];
    if (!problems.length && !status.message) {
      if (box) { box.remove(); box = null; }
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = "gantry-watch-overlay";
      box.setAttribute("role", "alert");
      box.style.cssText = "position:fixed;left:0;right:0;bottom:0;max-height:50vh;overflow:auto;" +
        "background:#2b0b0b;color:#ffe3e3;font:13px/1.5 ui-monospace,monospace;padding:12px 16px;" +
        "z-index:2147483647;border-top:3px solid #ff6b6b";
      document.body.appendChild(box);
    }
    box.replaceChildren();
    var head = document.createElement("strong");
    head.textContent = status.message || (problems.length + " problem(s) in the catalog");
    box.appendChild(head);
    problems.forEach(function (p) {
      var line = document.createElement("div");
      line.textContent = p.file + ":" + p.line + ":" + p.column + ": " + p.message + " [" + p.rule + "]";
      box.appendChild(line);
    });
  }
  function poll() {
    fetch("/__gantry/status", { cache: "no-store" }).then(function (r) { return r.json(); })
      .then(function (status) {
        if (seen !== null && status.build !== seen) { location.reload(); return; }
        seen = status.build;
        overlay(status);
      }).catch(function () {}).then(function () { setTimeout(poll, 700); });
  }
  poll();
})();
