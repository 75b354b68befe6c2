/* Edit, create and delete an entity from its page, for those the write policy allows.
 *
 * The form is generated from the kind's bundled JSON Schema (GET /api/v1/schemas/{kind}):
 * the scalar fields of metadata and spec (text, choices, numbers, yes/no, tag lists). The
 * YAML view holds the whole document, so whatever the form does not cover is edited
 * there; the two stay in step. Saves send If-Match with the ETag read, so a concurrent
 * change is a 409 that shows what changed meanwhile instead of overwriting it.
 */
import { api, atLeast, assetVersion, siteRoot } from "./api.js";
import { fill, h, notice } from "./dom.js";

const PRIVILEGED_KINDS = ["Team", "Action"];
const DERIVED = ["createdAt", "updatedAt", "createdBy"];
const IDENTITY = ["name", "namespace"];

/** The write policy's rule, to offer only what the runner would accept (it checks again). */
export function mayWrite(user, kind, owner) {
  if (!user || !atLeast(user.role, "developer")) return false;
  if (atLeast(user.role, "platform-engineer")) return true;
  if (PRIVILEGED_KINDS.includes(kind)) return false;
  if (!owner) return true;
  const team = owner.replace(/^team:/i, "").split("/").pop();
  return (user.teams || []).includes(team);
}

function entityPath(kind, name, namespace) {
  return `/api/v1/entities/${encodeURIComponent(kind.toLowerCase())}/${encodeURIComponent(name)}` +
    `?namespace=${encodeURIComponent(namespace)}`;
}

function clean(entity) {
  const copy = JSON.parse(JSON.stringify(entity));
  if (copy.metadata) for (const key of DERIVED) delete copy.metadata[key];
  return copy;
}

function getPath(object, path) {
  return path.reduce((node, key) => (node && typeof node === "object" ? node[key] : undefined), object);
}

function setPath(object, path, value) {
  let node = object;
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== "object") node[key] = {};
    node = node[key];
  }
  const last = path[path.length - 1];
  if (value === undefined) delete node[last]; else node[last] = value;
}

/** A schema node with its local `$ref`s followed (the bundled schemas have no others). */
function resolve(root, node, depth = 0) {
  if (!node || typeof node !== "object" || typeof node.$ref !== "string" || depth > 20) return node || {};
  if (!node.$ref.startsWith("#/")) return node;
  const target = node.$ref.slice(2).split("/")
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"))
    .reduce((at, key) => (at && typeof at === "object" ? at[key] : undefined), root);
  return resolve(root, { ...target, ...Object.fromEntries(Object.entries(node).filter(([k]) => k !== "$ref")) }, depth + 1);
}

/** The schema of `metadata` or `spec`: the kind's own, else the envelope's (via allOf). */
function partSchema(schema, part) {
  const own = (schema.properties || {})[part];
  if (own) return resolve(schema, own);
  for (const branch of schema.allOf || []) {
    const found = (resolve(schema, branch).properties || {})[part];
    if (found) return resolve(schema, found);
  }
  return {};
}

/** The form's fields: scalar properties of metadata and spec in the schema. */
function formFields(schema) {
  const fields = [];
  for (const part of ["metadata", "spec"]) {
    const properties = partSchema(schema, part).properties || {};
    for (const [key, raw] of Object.entries(properties)) {
      const property = resolve(schema, raw);
      if (part === "metadata" && (IDENTITY.includes(key) || DERIVED.includes(key))) continue;
      const type = Array.isArray(property.type) ? property.type.find((t) => t !== "null") : property.type;
      const items = resolve(schema, property.items);
      let control = null;
      if (Array.isArray(property.enum)) control = "select";
      else if (type === "string") control = key === "description" ? "textarea" : "text";
      else if (type === "integer" || type === "number") control = "number";
      else if (type === "boolean") control = "checkbox";
      else if (type === "array" && items.type === "string" && !items.enum) control = "list";
      if (control) {
        fields.push({ path: [part, key], control, options: property.enum || [],
          title: property.title || key, help: property.description || "" });
      }
    }
  }
  return fields;
}

async function loadYaml() {
  return import(`./vendor/js-yaml.js?v=${assetVersion}`);
}

function changes(before, after, prefix = []) {
  const keys = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  const found = [];
  for (const key of keys) {
    const a = (before || {})[key];
    const b = (after || {})[key];
    const path = [...prefix, key];
    if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
      found.push(...changes(a, b, path));
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      found.push({ path: path.join("."), before: a, after: b });
    }
  }
  return found;
}

function shown(value) {
  return value === undefined ? "(absent)" : JSON.stringify(value);
}

/** The editor: `mode` is "edit" (with `etag`) or "create". */
async function openEditor(article, { kind, namespace, mode, entity, etag }) {
  const [{ body: schema }, yaml] = await Promise.all([
    api(`/api/v1/schemas/${encodeURIComponent(kind.toLowerCase())}`), loadYaml()]);
  let doc = clean(entity);
  let base = clean(entity);
  let currentEtag = etag;
  const fields = formFields(schema);
  const status = h("div", { id: "edit-status", "aria-live": "polite" });
  const yamlBox = h("textarea", { id: "edit-yaml", rows: 18, spellcheck: "false", class: "mono" });
  const yamlProblem = h("p", { class: "field-problem", id: "edit-yaml-problem", role: "alert" });
  const controls = new Map();

  function syncYaml() {
    if (document.activeElement !== yamlBox) yamlBox.value = yaml.dump(doc, { lineWidth: 100 });
  }
  function syncForm() {
    for (const field of fields) {
      const control = controls.get(field.path.join("."));
      const value = getPath(doc, field.path);
      if (field.control === "checkbox") control.checked = value === true;
      else if (field.control === "list") control.value = Array.isArray(value) ? value.join(", ") : "";
      else control.value = value === undefined || value === null ? "" : String(value);
    }
    if (nameInput) nameInput.value = (doc.metadata || {}).name || "";
  }
  function fromControl(field, control) {
    if (field.control === "checkbox") return control.checked;
    const text = control.value.trim();
    if (!text) return undefined;
    if (field.control === "number") return Number.isNaN(Number(text)) ? text : Number(text);
    if (field.control === "list") return text.split(",").map((t) => t.trim()).filter(Boolean);
    return control.value;
  }

  let nameInput = null;
  const rows = [];
  if (mode === "create") {
    nameInput = h("input", { id: "edit-metadata-name", required: true, "data-path": "metadata.name",
      oninput: () => { setPath(doc, ["metadata", "name"], nameInput.value.trim()); syncYaml(); } });
    rows.push(h("div", { class: "field" }, h("label", { for: "edit-metadata-name" }, "name"), nameInput,
      h("p", { class: "field-problem", "data-problem-for": "metadata.name" })));
  }
  for (const field of fields) {
    const id = `edit-${field.path.join("-")}`;
    const key = field.path.join(".");
    const attrs = { id, name: key, "data-path": key, "aria-describedby": `${id}-problem` };
    let control;
    if (field.control === "select") {
      control = h("select", attrs, h("option", { value: "" }, "— none —"),
        field.options.map((option) => h("option", { value: String(option) }, String(option))));
    } else if (field.control === "textarea") {
      control = h("textarea", { ...attrs, rows: 3 });
    } else if (field.control === "checkbox") {
      control = h("input", { ...attrs, type: "checkbox" });
    } else {
      control = h("input", { ...attrs, type: field.control === "number" ? "number" : "text" });
    }
    control.addEventListener(field.control === "checkbox" ? "change" : "input", () => {
      setPath(doc, field.path, fromControl(field, control));
      syncYaml();
    });
    controls.set(key, control);
    const label = `${field.path[0]}.${field.path[1]}` + (field.control === "list" ? " (comma-separated)" : "");
    rows.push(h("div", { class: "field" + (field.control === "checkbox" ? " check" : "") },
      h("label", { for: id }, label), control,
      field.help ? h("p", { class: "hint" }, field.help) : null,
      h("p", { class: "field-problem", id: `${id}-problem`, "data-problem-for": key })));
  }
  yamlBox.addEventListener("input", () => {
    try {
      const parsed = yaml.load(yamlBox.value);
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("the document must be a mapping");
      doc = parsed;
      yamlProblem.textContent = "";
      syncForm();
    } catch (error) {
      yamlProblem.textContent = `YAML: ${error.message.split("\n")[0]}`;
    }
  });

  function clearProblems() {
    for (const node of editor.querySelectorAll(".field-problem")) node.textContent = "";
    for (const node of editor.querySelectorAll("[aria-invalid]")) node.removeAttribute("aria-invalid");
  }
  function showProblems(problems) {
    const unplaced = [];
    for (const problem of problems) {
      const message = problem.message || String(problem);
      const target = [...editor.querySelectorAll("[data-problem-for]")]
        .map((node) => node.dataset.problemFor)
        .filter((path) => message.startsWith(`${path}:`) || message.startsWith(`${path} `))
        .sort((a, b) => b.length - a.length)[0];
      if (target) {
        editor.querySelector(`[data-problem-for="${target}"]`).textContent = message;
        const control = editor.querySelector(`[data-path="${target}"]`);
        if (control) control.setAttribute("aria-invalid", "true");
      } else {
        unplaced.push(message);
      }
    }
    yamlProblem.textContent = unplaced.join("\n");
  }

  async function save(event) {
    event.preventDefault();
    clearProblems();
    fill(status, notice("info", "Saving…"));
    const name = (doc.metadata || {}).name;
    let answer;
    try {
      answer = mode === "create"
        ? await api("/api/v1/entities", { method: "POST", body: doc })
        : await api(entityPath(kind, name, namespace), { method: "PUT", body: doc,
          headers: { "If-Match": currentEtag } });
    } catch (error) {
      if (error.status === 422) {
        showProblems(error.body.problems || []);
        fill(status, notice("error", `Not saved: ${error.message}`));
      } else if (error.status === 409 && mode === "edit") {
        await conflict(error);
      } else {
        fill(status, notice("error", `Not saved: ${error.message}`));
      }
      return;
    }
    const commit = answer.headers.get("X-Gantry-Commit");
    currentEtag = answer.headers.get("ETag") || currentEtag;
    base = clean(answer.body);
    const where = mode === "create"
      ? h("a", { href: `${siteRoot}catalog/${encodeURIComponent(kind.toLowerCase())}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/index.html` }, "its page")
      : "reload to see the page rebuilt";
    fill(status, notice("ok", commit ? "Saved in commit " : "Nothing changed: no commit.",
      commit ? h("code", { id: "edit-commit", "data-commit": commit }, commit.slice(0, 12)) : null,
      commit ? " — " : "", commit ? where : ""));
  }

  async function conflict(error) {
    let theirs;
    try {
      theirs = await api(entityPath(kind, (base.metadata || {}).name, namespace));
    } catch (readError) {
      fill(status, notice("error", `${error.message} (${readError.message})`));
      return;
    }
    const current = clean(theirs.body);
    const changed = changes(base, current);
    fill(status, h("div", { class: "notice error", role: "alert", id: "edit-conflict" },
      h("p", {}, "Not saved: the entity changed since you opened the editor. What changed meanwhile:"),
      h("ul", {}, changed.map((c) => h("li", {}, h("code", {}, c.path), `: ${shown(c.before)} → ${shown(c.after)}`))),
      h("p", {}, "Your edits are still in the form. ",
        h("button", { type: "button", class: "secondary", id: "edit-take-theirs", onclick: () => {
          doc = current; base = clean(current); currentEtag = theirs.headers.get("ETag");
          syncForm(); syncYaml();
          fill(status, notice("info", "The editor now holds the current version; make your change again."));
        } }, "Start again from the current version"))));
  }

  const editor = h("form", { class: "card editor", id: "entity-editor", novalidate: true, onsubmit: save },
    h("h2", {}, mode === "create" ? `New ${kind}` : `Edit ${kind}`),
    h("div", { class: "editor-grid" },
      h("fieldset", {}, h("legend", {}, "Fields"), rows),
      h("div", { class: "field" }, h("label", { for: "edit-yaml" }, "YAML (the whole document)"),
        yamlBox, yamlProblem)),
    h("p", { class: "row" }, h("button", { type: "submit", id: "edit-save" }, mode === "create" ? "Create" : "Save"),
      h("button", { type: "button", class: "secondary", onclick: () => editor.remove() }, "Close")),
    status);
  const old = document.getElementById("entity-editor");
  if (old) old.remove();
  article.querySelector(".entity-head").after(editor);
  syncForm();
  syncYaml();
  editor.querySelector("input, select, textarea").focus();
}

export async function enhance(user) {
  const article = document.querySelector("article.entity[data-kind]");
  if (!article) return;
  const { kind, namespace, name, owner } = article.dataset;
  if (!mayWrite(user, kind, owner)) return;
  const path = entityPath(kind, name, namespace);
  const status = h("span", { id: "entity-tools-status", "aria-live": "polite" });

  async function edit() {
    try {
      const answer = await api(path);
      await openEditor(article, { kind, namespace, mode: "edit", entity: answer.body,
        etag: answer.headers.get("ETag") });
    } catch (error) {
      fill(status, notice("error", `Cannot edit: ${error.message}`));
    }
  }
  async function create() {
    try {
      await openEditor(article, { kind, namespace, mode: "create", entity: {
        apiVersion: "gantry.io/v1", kind, metadata: { name: "", namespace }, spec: {} } });
    } catch (error) {
      fill(status, notice("error", `Cannot create: ${error.message}`));
    }
  }
  async function remove() {
    if (!window.confirm(`Delete ${kind} ${namespace}/${name}? This commits its removal.`)) return;
    try {
      const current = await api(path);
      const answer = await api(path, { method: "DELETE",
        headers: { "If-Match": current.headers.get("ETag") } });
      const commit = answer.headers.get("X-Gantry-Commit") || "";
      fill(status, notice("ok", "Deleted in commit ", h("code", { id: "delete-commit" }, commit.slice(0, 12)), ". ",
        h("a", { href: `${siteRoot}catalog/index.html` }, "Back to the catalog")));
    } catch (error) {
      fill(status, notice("error", `Not deleted: ${error.message}`));
    }
  }
  article.querySelector(".entity-head").append(h("p", { class: "row entity-tools" },
    h("button", { type: "button", id: "entity-edit", onclick: edit }, "Edit"),
    h("button", { type: "button", class: "secondary", id: "entity-new", onclick: create }, `New ${kind}`),
    h("button", { type: "button", class: "danger", id: "entity-delete", onclick: remove }, "Delete"),
    status));
}
