// System broadcasts (every namespace gets them) and admin alerts: a log, newest first, and a
// banner with the latest broadcast. One broadcast reaches each of our sockets: shown once.

import { $, el, setText, clockTime } from "./dom.js";

const KEEP = 50;

export class Notices {
  constructor(list, banner) {
    this.list = list;
    this.banner = banner;
    this.seen = new Set();
    $("button", banner).addEventListener("click", () => { banner.hidden = true; });
  }

  /** kind: "broadcast" or "alert"; item: {level, message, ts}. */
  add(kind, { level = "info", message = "", ts = Date.now() }) {
    const key = `${kind}|${level}|${message}|${ts}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.list.querySelector(".empty")?.remove();
    this.list.prepend(el("li", { class: `notice ${level}`, dataset: { kind, level } },
      el("time", {}, clockTime(ts).slice(0, 8)),
      el("span", { class: "kind" }, kind === "alert" ? "alert" : level),
      el("span", { class: "message" }, message)));
    while (this.list.children.length > KEEP) this.list.lastElementChild.remove();
    if (this.seen.size > KEEP * 4) this.seen = new Set([...this.seen].slice(-KEEP));
    if (kind === "broadcast") {
      this.banner.className = `banner ${level}`;
      setText($(".message", this.banner), message);
      this.banner.hidden = false;
    }
  }
}
