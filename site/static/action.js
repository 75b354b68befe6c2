/* Action forms: the equivalent CLI and curl commands, live; submission to the runner. */
(function () {
  "use strict";
  var form = document.getElementById("action-form");
  var specNode = document.getElementById("action-spec");
  if (!form || !specNode) return;
  var spec = JSON.parse(specNode.textContent);
  var cli = document.getElementById("cli-command");
  var curl = document.getElementById("curl-command");
  var result = document.getElementById("result");

  var params = new URLSearchParams(location.search);
  spec.fields.forEach(function (f) {
    var el = form.elements[f.name];
    if (!el || !params.has(f.name)) return;
    var v = params.get(f.name);
    if (f.type === "boolean") el.checked = v === "true" || v === "1" || v === "on";
    else el.value = v;
  });

  function quote(text) {
    return /^[A-Za-z0-9_.,:\/@=+-]+$/.test(text) ? text : "'" + text.replace(/'/g, "'\\''") + "'";
  }
  function inputs() {
    var out = {};
    spec.fields.forEach(function (f) {
      var el = form.elements[f.name];
      if (!el) return;
      if (f.type === "boolean") { out[f.name] = el.checked; return; }
      var v = el.value;
      if (v === "") return;
      if (f.type === "number") { var n = Number(v); out[f.name] = isNaN(n) ? v : n; return; }
      out[f.name] = v;
    });
    return out;
  }
  // "/" is the runner that serves this site: the page's own origin.
  var runnerUrl = spec.runnerUrl === "/" ? window.location.origin : spec.runnerUrl;
  function update() {
    var values = inputs();
    var parts = ["gantry run " + quote(spec.action)];
    Object.keys(values).forEach(function (k) {
      parts.push("--input " + quote(k + "=" + String(values[k])));
    });
    if (runnerUrl) parts.push("--server " + quote(runnerUrl));
    cli.textContent = parts.join(" \\\n  ");
    var base = runnerUrl || "http://localhost:8080";
    curl.textContent = "curl -X POST " + quote(base + "/api/v1/actions/" + spec.action + "/execute") +
      " \\\n  -H 'Authorization: Bearer $GANTRY_TOKEN'" +
      " \\\n  -H 'Content-Type: application/json'" +
      " \\\n  -d " + quote(JSON.stringify({ inputs: values }));
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!runnerUrl) return;
    if (!form.reportValidity()) return;
    result.className = "result";
    result.textContent = "Starting…";
    fetch(runnerUrl + "/api/v1/actions/" + encodeURIComponent(spec.action) + "/execute", {
      method: "POST",
      credentials: "include",
      headers: { "Content-Type": "application/json", "X-Requested-With": "gantry-site" },
      body: JSON.stringify({ inputs: inputs() })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) {
          var why = body.error || response.statusText;
          if (response.status === 401) why += " — sign in to the runner first.";
          throw new Error(response.status + ": " + why);
        }
        result.className = "result ok";
        result.textContent = "Run " + (body.id || "") + " is " + (body.status || "created") + ".";
        if (body.id) {
          form.dispatchEvent(new CustomEvent("gantry:run-started", { detail: body }));
        }
      });
    }).catch(function (err) {
      result.className = "result error";
      result.textContent = "Could not start the run: " + err.message;
    });
  });
})();
