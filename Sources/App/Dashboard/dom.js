// DOM and number-formatting helpers shared by the panels.

export const $ = (selector, root = document) => root.querySelector(selector);

/** el("td", {class: "num", dataset: {symbol: "X"}}, "text", child…) */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

/** Sets text only when it changed (keeps layout and selection quiet at 20 updates/s). */
export function setText(node, text) {
  const value = String(text);
  if (node.textContent !== value) node.textContent = value;
}

/** Restarts a short up/down colour flash on a cell. */
export function flash(node, direction) {
  if (!direction) return;
  node.classList.remove("flash-up", "flash-down");
  void node.offsetWidth; // restart the animation
  node.classList.add(direction > 0 ? "flash-up" : "flash-down");
}

export function decimals(text) {
  const dot = String(text).indexOf(".");
  return dot < 0 ? 0 : String(text).length - dot - 1;
}

/** a − b shown with as many decimals as the inputs have (prices stay exact strings). */
export function difference(a, b) {
  const places = Math.max(decimals(a), decimals(b));
  return (Number(a) - Number(b)).toFixed(places);
}

export function formatCount(value) {
  return Number(value ?? 0).toLocaleString("en-US");
}

export function formatRate(value) {
  const n = Number(value ?? 0);
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export function formatDuration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
  if (d) return `${d}d ${h}h`;
  if (h) return `${h}h ${m}m`;
  return m ? `${m}m ${s % 60}s` : `${s}s`;
}

/** HH:MM:SS.mmm local time of a ms timestamp. */
export function clockTime(ms) {
  const t = new Date(Number(ms));
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  return `${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}.${pad(t.getMilliseconds(), 3)}`;
}

/** Resolves a theme colour (a CSS custom property, possibly light-dark()) for canvas drawing. */
export function themeColor(name) {
  probe ??= document.body.appendChild(el("span", { hidden: "", "aria-hidden": "true" }));
  probe.style.color = `var(${name})`;
  return getComputedStyle(probe).color;
}
let probe = null;
