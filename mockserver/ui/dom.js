// Building the document: elements from text only (a string always becomes a text node),
// and keyed patches that change only what changed, so selections, focus, open states and
// scroll positions survive a poll.

export const $ = (id) => document.getElementById(id);

const PHASE_PREFIX = /^TASK_EXECUTION_PHASE_/;

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child)); // a string becomes a text node
  }
  return node;
}

// Writing the same text again would replace the text node, and a selection in it.
export function setText(node, text) {
  if (node && node.textContent !== text) node.textContent = text;
}

// The signature each patched element was built from: the same signature, the same element.
const built = new WeakMap();

// Makes `container`'s children the parts given, in that order: {key, sig, make, update}.
// A child whose key and signature are unchanged is kept (and moved only if the order
// changed); otherwise make() builds it anew. update(node), if given, then patches the
// inside of a kept or new child. A part whose sig is undefined is never rebuilt.
export function patch(container, parts) {
  const present = new Map();
  for (const child of [...container.children]) {
    const key = child.dataset.key;
    if (key === undefined || present.has(key)) child.remove();
    else present.set(key, child);
  }
  let cursor = container.firstElementChild;
  for (const part of parts.filter(Boolean)) {
    let node = present.get(part.key);
    present.delete(part.key);
    if (!node || built.get(node) !== part.sig) {
      const fresh = part.make();
      fresh.dataset.key = part.key;
      built.set(fresh, part.sig);
      if (node) {
        node.replaceWith(fresh);
        if (node === cursor) cursor = fresh;
      }
      node = fresh;
    }
    if (part.update) part.update(node);
    if (node === cursor) cursor = cursor.nextElementSibling;
    else container.insertBefore(node, cursor);
  }
  for (const stale of present.values()) stale.remove();
}

// A log only grows: the new lines are added, so a selection or scroll in it stays.
export function appendText(node, text) {
  const shown = node.textContent;
  if (shown === text) return;
  if (shown && text.startsWith(shown)) node.append(text.slice(shown.length));
  else node.textContent = text;
}

export const phaseName = (phase) => (phase || "UNSPECIFIED").replace(PHASE_PREFIX, "");
export const badge = (phase) => el("span", { class: "badge phase-" + phase }, phase);
export const shortId = (id) => (id || "").slice(0, 8);
export const time = (stamp) => (stamp ? stamp.slice(11, 23).replace(/Z$/, "") : "");
export const millis = (stamp) => (stamp ? Date.parse(stamp) : NaN);
export const pretty = (value) => JSON.stringify(value, null, 2);
export const signature = (...values) => JSON.stringify(values);

export function counted(id, shown, total, noun) {
  setText($(id), shown < total ? `(newest ${shown} of ${total})` : `(${total} ${noun})`);
}

export const empty = (text) => ({ key: "empty", sig: text, make: () => el("p", { class: "empty" }, text) });

export function formatMs(ms) {
  if (ms === undefined || ms === null) return "";
  return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms));
}

export function say(text, isError) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "message error" : "message";
  box.hidden = !text;
}
