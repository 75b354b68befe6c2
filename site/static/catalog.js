/* The catalog table: filters over catalog-data.js, state kept in the URL hash. */
(function () {
  "use strict";
  var data = window.GANTRY_CATALOG;
  var form = document.getElementById("filters");
  var body = document.getElementById("catalog-rows");
  var summary = document.getElementById("summary");
  var more = document.getElementById("more");
  if (!data || !form || !body) return;
  var PAGE = 200;
  var shown = PAGE;
  var K = 0, NS = 1, NAME = 2, TITLE = 3, OWNER = 4, LIFE = 5, TAGS = 6;
  var rows = data.rows;
  var kinds = data.kinds;

  function uniq(pick) {
    var seen = {};
    rows.forEach(function (r) {
      var v = pick(r);
      (Array.isArray(v) ? v : [v]).forEach(function (x) { if (x) seen[x] = true; });
    });
    return Object.keys(seen).sort();
  }
  function fill(name, values) {
    var select = form.elements[name];
    values.forEach(function (v) {
      var o = document.createElement("option");
      o.value = v; o.textContent = v; select.appendChild(o);
    });
  }
  fill("kind", kinds.slice());
  fill("owner", uniq(function (r) { return r[OWNER]; }));
  fill("tag", uniq(function (r) { return r[TAGS]; }));
  fill("namespace", uniq(function (r) { return r[NS]; }));
  fill("lifecycle", uniq(function (r) { return r[LIFE]; }));

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ""));
    ["q", "kind", "owner", "tag", "namespace", "lifecycle"].forEach(function (n) {
      var v = params.get(n);
      var el = form.elements[n];
      if (v === null) { el.value = ""; return; }
      if (el.tagName === "SELECT" && !Array.prototype.some.call(el.options, function (o) { return o.value === v; })) {
        var o = document.createElement("option"); o.value = v; o.textContent = v; el.appendChild(o);
      }
      el.value = v;
    });
  }
  function state() {
    var s = {};
    ["q", "kind", "owner", "tag", "namespace", "lifecycle"].forEach(function (n) { s[n] = form.elements[n].value; });
    return s;
  }
  function writeHash(s) {
    var params = new URLSearchParams();
    Object.keys(s).forEach(function (k) { if (s[k]) params.set(k, s[k]); });
    var hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : location.pathname + location.search);
  }
  function matches(r, s, q) {
    if (s.kind && kinds[r[K]] !== s.kind) return false;
    if (s.owner && r[OWNER] !== s.owner) return false;
    if (s.namespace && r[NS] !== s.namespace) return false;
    if (s.lifecycle && r[LIFE] !== s.lifecycle) return false;
    if (s.tag && r[TAGS].indexOf(s.tag) < 0) return false;
    if (q) {
      var text = (r[NAME] + " " + r[TITLE] + " " + r[OWNER] + " " + r[TAGS].join(" ")).toLowerCase();
      if (text.indexOf(q) < 0) return false;
    }
    return true;
  }
  function cell(tr, text) {
    var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td;
  }
  function render() {
    var s = state();
    writeHash(s);
    var q = s.q.trim().toLowerCase();
    var found = [];
    for (var i = 0; i < rows.length; i++) if (matches(rows[i], s, q)) found.push(rows[i]);
    var frag = document.createDocumentFragment();
    found.slice(0, shown).forEach(function (r) {
      var tr = document.createElement("tr");
      var a = document.createElement("a");
      a.href = "../catalog/" + encodeURIComponent(kinds[r[K]].toLowerCase()) + "/" +
        encodeURIComponent(r[NS]) + "/" + encodeURIComponent(r[NAME]) + "/index.html";
      a.textContent = r[TITLE] || r[NAME];
      cell(tr, "").appendChild(a);
      cell(tr, kinds[r[K]]); cell(tr, r[NS]); cell(tr, r[OWNER]); cell(tr, r[LIFE]);
      cell(tr, r[TAGS].join(", "));
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    summary.textContent = found.length === rows.length
      ? rows.length + " entities."
      : found.length + " of " + rows.length + " entities match.";
    more.hidden = found.length <= shown;
  }
  form.hidden = false;
  readHash();
  render();
  form.addEventListener("input", function () { shown = PAGE; render(); });
  form.addEventListener("reset", function () { setTimeout(function () { shown = PAGE; render(); }, 0); });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  more.addEventListener("click", function () { shown += PAGE; render(); });
  window.addEventListener("hashchange", function () { readHash(); render(); });
})();
