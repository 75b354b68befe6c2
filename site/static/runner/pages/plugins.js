/* Plugin settings: one form per bundled plugin, from its settings schema.
 *
 * Secret fields (`x-secret`) are write-only: the runner answers them as a placeholder, the
 * form shows an empty password field, and leaving it empty sends the placeholder back,
 * which keeps the stored secret. Nested settings are edited as JSON.
 */
import { api } from "../api.js";
import { fill, h, notice } from "../dom.js";

const REDACTED = "__GANTRY_SECRET_REDACTED__";

function typeOf(property) {
  const type = Array.isArray(property.type) ? property.type.find((t) => t !== "null") : property.type;
  if (Array.isArray(property.enum)) return "select";
  if (type === "boolean") return "checkbox";
  if (type === "integer" || type === "number") return "number";
  if (type === "string") return property["x-secret"] ? "secret" : "text";
  return "json";
}

function pluginForm(detail) {
  const name = detail.name;
  const schema = detail.configSchema || {};
  const config = { ...(detail.defaults || {}), ...(detail.config || {}) };
  const status = h("div", { "aria-live": "polite", id: `plugin-${name}-status` });
  const controls = [];
  const rows = Object.entries(schema.properties || {}).map(([key, property]) => {
    const id = `plugin-${name}-${key}`;
    const kind = typeOf(property);
    const value = config[key];
    let control;
    let hint = property.description || "";
    if (kind === "select") {
      control = h("select", { id }, h("option", { value: "" }, "— none —"),
        property.enum.map((option) => h("option", { value: String(option), selected: value === option }, String(option))));
    } else if (kind === "checkbox") {
      control = h("input", { id, type: "checkbox", checked: value === true });
    } else if (kind === "secret") {
      control = h("input", { id, type: "password", autocomplete: "off", "data-secret": "true" });
      hint = value === REDACTED ? "A value is stored (never shown). Type a new one to replace it; leave empty to keep it."
        : "Not set.";
    } else if (kind === "json") {
      control = h("textarea", { id, rows: 4, class: "mono" }, value === undefined ? "" : JSON.stringify(value, null, 2));
      hint = `${hint} JSON.`.trim();
    } else {
      control = h("input", { id, type: kind === "number" ? "number" : "text", value: value === undefined || value === null ? "" : String(value) });
    }
    controls.push({ key, kind, control, stored: value });
    return h("div", { class: "field" }, h("label", { for: id }, property.title || key), control,
      hint ? h("p", { class: "hint" }, hint) : null);
  });

  function collect() {
    const out = {};
    for (const { key, kind, control, stored } of controls) {
      if (kind === "checkbox") { out[key] = control.checked; continue; }
      const text = control.value;
      if (kind === "secret") {
        if (text) out[key] = text; else if (stored === REDACTED) out[key] = REDACTED;
        continue;
      }
      if (!text.trim()) continue;
      if (kind === "number") out[key] = Number(text);
      else if (kind === "json") out[key] = JSON.parse(text);
      else out[key] = text;
    }
    return out;
  }

  async function save(event) {
    event.preventDefault();
    let body;
    try { body = collect(); } catch (error) {
      fill(status, notice("error", `Not saved: a JSON field is not valid JSON (${error.message}).`));
      return;
    }
    try {
      await api(`/api/v1/plugins/${encodeURIComponent(name)}/config`, { method: "PUT", body });
      for (const item of controls) {
        if (item.kind === "secret" && item.control.value) { item.stored = REDACTED; item.control.value = ""; }
      }
      fill(status, notice("ok", "Saved."));
    } catch (error) {
      fill(status, notice("error", `Not saved: ${error.message}`));
    }
  }

  const enabled = h("input", { id: `plugin-${name}-enabled`, type: "checkbox", checked: detail.enabled });
  enabled.addEventListener("change", async () => {
    try {
      await api(`/api/v1/plugins/${encodeURIComponent(name)}/enable`, { method: "PUT",
        body: { enabled: enabled.checked } });
      fill(status, notice("ok", enabled.checked ? "Enabled." : "Disabled."));
    } catch (error) {
      enabled.checked = !enabled.checked;
      fill(status, notice("error", error.message));
    }
  });
  return h("form", { class: "card stack editor", id: `plugin-${name}`, onsubmit: save },
    h("h2", {}, schema.title || name),
    schema.description ? h("p", { class: "muted" }, schema.description) : null,
    h("p", { class: "row" }, enabled, h("label", { for: `plugin-${name}-enabled` }, "Enabled")),
    (detail.missingSettings || []).length
      ? h("p", { class: "hint" }, `Missing: ${detail.missingSettings.join("; ")}`) : null,
    rows,
    h("p", {}, h("button", { type: "submit" }, `Save ${schema.title || name} settings`)),
    status);
}

export async function render(holder) {
  let plugins;
  try {
    plugins = (await api("/api/v1/plugins")).body;
  } catch (error) {
    fill(holder, notice("error", `Cannot list plugins: ${error.message}`));
    return;
  }
  const details = await Promise.all(plugins.map((plugin) =>
    api(`/api/v1/plugins/${encodeURIComponent(plugin.name)}`).then((answer) => answer.body)));
  fill(holder, details.map(pluginForm));
}
