/* Admin: the audit log with filters (user, action, resource, time) and paging. */
import { api } from "../api.js";
import { fill, h, notice, when } from "../dom.js";

const PAGE = 50;
const FILTERS = [
  ["user", "User", "text"], ["action", "Action", "text"], ["resourceType", "Resource type", "text"],
  ["resource", "Resource name", "text"], ["since", "From", "datetime-local"],
  ["until", "Before", "datetime-local"],
];

function brief(value) {
  if (value === null || value === undefined) return "";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

export async function render(holder) {
  const params = new URLSearchParams(window.location.search);
  let offset = Number(params.get("offset")) || 0;
  const inputs = new Map(FILTERS.map(([key, , type]) => [key, h("input", {
    id: `audit-${key}`, name: key, type, value: params.get(key) || "" })]));
  const table = h("div", { id: "audit-table", "aria-live": "polite" });
  const pager = h("p", { class: "row" });

  function query() {
    const out = new URLSearchParams();
    for (const [key, input] of inputs) {
      if (!input.value) continue;
      out.set(key, input.type === "datetime-local" ? new Date(input.value).toISOString() : input.value);
    }
    return out;
  }

  async function load() {
    const shown = new URLSearchParams();
    for (const [key, input] of inputs) if (input.value) shown.set(key, input.value);
    if (offset) shown.set("offset", String(offset));
    history.replaceState(null, "", `?${shown}`);
    const wanted = query();
    wanted.set("limit", String(PAGE));
    wanted.set("offset", String(offset));
    let entries;
    try {
      entries = (await api(`/api/v1/audit?${wanted}`)).body;
    } catch (error) {
      fill(table, notice("error", `Cannot read the audit log: ${error.message}`));
      return;
    }
    fill(table, entries.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["When", "User", "Action", "Resource", "From", "Commit", "Details"]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, entries.map((e) => h("tr", { "data-entry": e.id },
        h("td", {}, when(e.timestamp)), h("td", {}, e.userName || ""), h("td", {}, e.action),
        h("td", {}, `${e.resourceType || ""} ${e.resourceName || ""}`),
        h("td", {}, e.ipAddress || ""), h("td", {}, e.commit ? h("code", {}, e.commit.slice(0, 12)) : ""),
        h("td", { class: "details" }, brief(e.details || e.after || e.before)))))))
      : h("p", { class: "muted" }, "No entries match."));
    fill(pager,
      offset > 0 ? h("button", { type: "button", class: "secondary", id: "audit-newer",
        onclick: () => { offset = Math.max(0, offset - PAGE); load(); } }, "Newer") : null,
      entries.length === PAGE ? h("button", { type: "button", class: "secondary", id: "audit-older",
        onclick: () => { offset += PAGE; load(); } }, "Older") : null);
  }

  fill(holder,
    h("form", { class: "filters", id: "audit-filters",
      onsubmit: (event) => { event.preventDefault(); offset = 0; load(); } },
      FILTERS.map(([key, label]) => h("label", { for: `audit-${key}` }, label, inputs.get(key))),
      h("button", { type: "submit" }, "Filter")),
    table, pager);
  await load();
}
