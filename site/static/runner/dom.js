/* A few DOM helpers: elements are built with text nodes only (never innerHTML), so
 * nothing the runner answers is ever parsed as markup. */

/** An element: `h("a", {href: "x", class: "y"}, "text", child)`. `on*` attributes with
 * functions become listeners; false/null attributes are left out. */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      node.className = value;
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A time stamp as the reader's local date and time, in a <time> element. */
export function when(iso) {
  if (!iso) return "";
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return iso;
  return h("time", { datetime: iso }, moment.toLocaleString());
}

/** A run's status as a coloured badge with its words ("pending approval" included). */
export function statusBadge(run) {
  const status = run.awaitingApproval ? "pending approval" : run.status;
  return h("span", { class: `badge st-${status.replace(/\s+/g, "-")}`, "data-status": status },
    status);
}

/** A message box: kind is "error", "ok" or "info". */
export function notice(kind, ...children) {
  return h("p", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    ...children);
}
