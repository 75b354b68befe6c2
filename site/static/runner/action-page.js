/* An action's page with a runner: Execute only for those the runner would let run it,
 * the run's page after Execute, and the action's recent runs, live. */
import { api, followRuns, runHref, signInHref } from "./api.js";
import { fill, h, notice } from "./dom.js";
import { actionNamed, mayExecute, runsTable } from "./runs-common.js";

const RECENT = 10;

function gateExecute(form, action, user) {
  const button = form.querySelector("button[type=submit]");
  if (!button) return;
  const holder = button.parentElement;
  const waiting = document.getElementById("execute-wait");
  if (waiting) waiting.remove();
  if (user && mayExecute(action, user)) {
    button.hidden = false;
  } else if (!user) {
    fill(holder, notice("info", "Sign in to run this action. ",
      h("a", { href: signInHref(), id: "execute-signin" }, "Sign in")));
  } else {
    fill(holder, notice("info", `Your role (${user.role}) may not run this action; `,
      "the command beside the form shows how it is run."));
  }
}

async function recentRuns(name) {
  const aside = document.querySelector(".col-side");
  if (!aside) return;
  const list = h("div", { id: "recent-runs" });
  aside.prepend(h("section", { class: "card", "aria-labelledby": "recent-h" },
    h("h2", { id: "recent-h" }, "Recent runs"), list));
  async function load() {
    try {
      const runs = (await api(`/api/v1/actions/${encodeURIComponent(name)}/runs?limit=${RECENT}`)).body;
      fill(list, runsTable(runs, { showAction: false }));
    } catch (error) {
      fill(list, notice("error", `Cannot list runs: ${error.message}`));
    }
  }
  followRuns((type, payload) => { if (payload.actionName === name) load(); });
  await load();
}

export async function enhance(user) {
  const form = document.getElementById("action-form");
  const spec = JSON.parse(document.getElementById("action-spec").textContent);
  form.addEventListener("gantry:run-started", (event) => {
    window.location.assign(runHref(spec.action, event.detail.id));
  });
  if (!user) {
    gateExecute(form, null, null);
    return;
  }
  let action = null;
  try {
    action = await actionNamed(spec.action);
  } catch (error) {
    const waiting = document.getElementById("execute-wait");
    if (waiting) waiting.remove();
    form.append(notice("error", `The runner does not know this action: ${error.message}`));
    return;
  }
  gateExecute(form, action, user);
  await recentRuns(spec.action);
}
