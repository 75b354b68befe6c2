/* Runs: mine or all, filtered by action and status, newest first, with paging. */
import { api } from "../api.js";
import { fill, h, notice } from "../dom.js";
import { runsTable } from "../runs-common.js";

const PAGE = 50;
const STATUSES = ["pending", "running", "success", "failed"];

export async function render(holder, user) {
  const params = new URLSearchParams(window.location.search);
  let offset = Number(params.get("offset")) || 0;
  let actions = [];
  try {
    actions = (await api("/api/v1/actions")).body.map((a) => a.metadata.name).sort();
  } catch { /* the filter then lists no actions */ }
  const scope = h("select", { id: "runs-scope", name: "scope" },
    h("option", { value: "mine", selected: params.get("scope") !== "all" }, "Mine"),
    h("option", { value: "all", selected: params.get("scope") === "all" }, "Everyone's"));
  const action = h("select", { id: "runs-action", name: "action" },
    h("option", { value: "" }, "Any action"),
    actions.map((name) => h("option", { value: name, selected: params.get("action") === name }, name)));
  const status = h("select", { id: "runs-status", name: "status" },
    h("option", { value: "" }, "Any status"),
    STATUSES.map((s) => h("option", { value: s, selected: params.get("status") === s }, s)));
  const table = h("div", { id: "runs-table", "aria-live": "polite" });
  const pager = h("p", { class: "row" });

  async function load() {
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
    if (status.value) query.set("status", status.value);
    const path = action.value
      ? `/api/v1/actions/${encodeURIComponent(action.value)}/runs?${query}`
      : `/api/v1/actions/runs?${query}`;
    const shown = new URLSearchParams({ scope: scope.value });
    if (action.value) shown.set("action", action.value);
    if (status.value) shown.set("status", status.value);
    if (offset) shown.set("offset", String(offset));
    history.replaceState(null, "", `?${shown}`);
    let runs;
    try {
      runs = (await api(path)).body;
    } catch (error) {
      fill(table, notice("error", `Cannot list runs: ${error.message}`));
      return;
    }
    const full = runs.length === PAGE;
    if (scope.value === "mine") runs = runs.filter((run) => run.triggeredBy === user.username);
    fill(table, runsTable(runs));
    fill(pager,
      offset > 0 ? h("button", { type: "button", class: "secondary", onclick: () => { offset = Math.max(0, offset - PAGE); load(); } }, "Newer") : null,
      full ? h("button", { type: "button", class: "secondary", onclick: () => { offset += PAGE; load(); } }, "Older") : null);
  }

  const changed = () => { offset = 0; load(); };
  for (const control of [scope, action, status]) control.addEventListener("change", changed);
  fill(holder,
    h("form", { class: "filters", onsubmit: (e) => e.preventDefault() },
      h("label", { for: "runs-scope" }, "Whose", scope),
      h("label", { for: "runs-action" }, "Action", action),
      h("label", { for: "runs-status" }, "Status", status)),
    table, pager);
  await load();
}
