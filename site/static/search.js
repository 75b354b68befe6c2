/* Search with the Pagefind bundle built next to the pages (works offline, needs http). */
(function () {
  "use strict";
  var input = document.getElementById("search-input");
  var list = document.getElementById("search-results");
  var status = document.getElementById("search-status");
  if (!input) return;
  var root = new URL("../", location.href);
  var ready = null;

  function load() {
    if (!ready) {
      ready = import(new URL("pagefind/pagefind.js", root).href).then(function (pf) {
        return pf.options({ baseUrl: root.pathname }).then(function () { pf.init(); return pf; });
      });
    }
    return ready;
  }
  function safeExcerpt(html, target) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    tpl.content.childNodes.forEach(function (node) {
      if (node.nodeType === 3) target.appendChild(document.createTextNode(node.textContent));
      else if (node.nodeName === "MARK") {
        var m = document.createElement("mark"); m.textContent = node.textContent; target.appendChild(m);
      } else target.appendChild(document.createTextNode(node.textContent || ""));
    });
  }
  function show(q) {
    if (!q.trim()) { list.replaceChildren(); status.textContent = ""; return; }
    load().then(function (pf) {
      return pf.debouncedSearch(q, {}, 120).then(function (search) {
        if (!search) return;
        return Promise.all(search.results.slice(0, 30).map(function (r) { return r.data(); }))
          .then(function (items) {
            var frag = document.createDocumentFragment();
            items.forEach(function (d) {
              var li = document.createElement("li");
              var a = document.createElement("a");
              a.href = d.url;
              a.textContent = (d.meta && d.meta.title) || d.url;
              li.appendChild(a);
              if (d.meta && d.meta.entity) {
                var owner = document.createElement("span");
                owner.className = "muted search-entity"; owner.textContent = " in " + d.meta.entity;
                li.appendChild(owner);
              }
              if (d.filters && d.filters.kind) {
                var k = document.createElement("span");
                k.className = "pill"; k.textContent = d.filters.kind.join(", ");
                li.appendChild(document.createTextNode(" ")); li.appendChild(k);
              }
              var p = document.createElement("p");
              p.className = "excerpt"; safeExcerpt(d.excerpt || "", p); li.appendChild(p);
              frag.appendChild(li);
            });
            list.replaceChildren(frag);
            status.textContent = search.results.length + " result" +
              (search.results.length === 1 ? "" : "s") + " for “" + q + "”.";
          });
      });
    }).catch(function () {
      status.textContent = location.protocol === "file:"
        ? "Search needs the site to be served over http(s); browsers block it on file://."
        : "The search index could not be loaded.";
    });
  }
  input.addEventListener("input", function () { show(input.value); });
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; show(initial); }
})();
