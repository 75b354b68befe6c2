/* API keys of the signed-in user: create (the key is shown once) and revoke. */
import { api, ROLES, atLeast } from "../api.js";
import { fill, h, notice, when } from "../dom.js";

export async function render(holder, user) {
  const list = h("div", { id: "keys-list" });
  const status = h("div", { id: "keys-status", "aria-live": "polite" });
  const name = h("input", { id: "key-name", name: "name", required: true, maxlength: 100 });
  const role = h("select", { id: "key-role", name: "role" },
    ROLES.filter((r) => atLeast(user.role, r)).map((r) =>
      h("option", { value: r, selected: r === user.role }, r)));

  async function refresh() {
    let keys;
    try {
      keys = (await api("/api/v1/auth/apikeys")).body;
    } catch (error) {
      fill(list, notice("error", `Cannot list your keys: ${error.message}`));
      return;
    }
    if (!keys.length) { fill(list, h("p", { class: "muted" }, "You have no API keys.")); return; }
    fill(list, h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["Name", "Role", "Starts with", "Created", "Last used", ""]
        .map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, keys.map((key) => h("tr", { "data-key": key.id },
        h("td", {}, key.name), h("td", {}, key.role), h("td", {}, h("code", {}, key.prefix || "")),
        h("td", {}, when(key.createdAt)), h("td", {}, key.lastUsedAt ? when(key.lastUsedAt) : "never"),
        h("td", {}, h("button", { type: "button", class: "danger",
          "aria-label": `Revoke the key ${key.name}`, onclick: () => revoke(key) }, "Revoke"))))))));
  }

  async function revoke(key) {
    if (!window.confirm(`Revoke the key "${key.name}"? Scripts using it stop working at once.`)) return;
    let outcome;
    try {
      await api(`/api/v1/auth/apikeys/${encodeURIComponent(key.id)}`, { method: "DELETE" });
      outcome = notice("ok", `The key "${key.name}" is revoked.`);
    } catch (error) {
      outcome = notice("error", `Cannot revoke the key: ${error.message}`);
    }
    await refresh();
    fill(status, outcome);
  }

  async function create(event) {
    event.preventDefault();
    if (!event.target.reportValidity()) return;
    let made;
    try {
      made = (await api("/api/v1/auth/apikeys", { method: "POST",
        body: { name: name.value, role: role.value } })).body;
    } catch (error) {
      fill(status, notice("error", `Cannot create the key: ${error.message}`));
      return;
    }
    name.value = "";
    const secret = h("input", { id: "new-key", readonly: true, value: made.key, class: "mono",
      "aria-label": "The new key" });
    const copied = h("span", { "aria-live": "polite", class: "muted" });
    fill(status, h("div", { class: "notice ok", role: "status" },
      h("p", {}, `The key "${made.name}" is made. Copy it now: it is never shown again.`),
      h("p", { class: "row" }, secret,
        h("button", { type: "button", id: "copy-key", onclick: async () => {
          secret.select();
          try { await navigator.clipboard.writeText(made.key); copied.textContent = "Copied."; }
          catch { copied.textContent = "Press Ctrl+C to copy the selected key."; }
        } }, "Copy"), copied)));
    secret.focus();
    secret.select();
    await refresh();
  }

  fill(holder,
    h("form", { class: "card stack narrow", id: "key-form", onsubmit: create },
      h("h2", {}, "New key"),
      h("label", { for: "key-name" }, "Name (what uses it, e.g. ci)"), name,
      h("label", { for: "key-role" }, "Role (at most yours)"), role,
      h("p", {}, h("button", { type: "submit" }, "Create key"))),
    status,
    h("section", { class: "card", "aria-labelledby": "keys-h" },
      h("h2", { id: "keys-h" }, "Your keys"), list));
  await refresh();
}
