// DOM helpers: every piece of data reaches the page as a text node or an attribute value, never as markup.

/** Create an element: el("li", {class: "x", "aria-label": "..."}, child, "text", ...). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** Set an element's text (textContent: markup in data stays text); unchanged text is left alone,
 * so live regions announce changes only. */
export function text(selector, value) {
  const node = typeof selector === "string" ? $(selector) : selector;
  if (node && node.textContent !== (value ?? "")) node.textContent = value ?? "";
  return node;
}
