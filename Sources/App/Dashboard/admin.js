// The admin view over /admin: live admin.stats, system broadcasts, maintenance mode and kicks.
// The token is kept in sessionStorage only (gone when the tab closes), never in the URL: the
// input has no name, so even a form that submitted without this script would not carry it.

import { NamespaceSocket } from "./socketio-client.js";
import { $, el, setText, formatCount, formatRate, formatDuration, clockTime } from "./dom.js";

const TOKEN_KEY = "dashboard.adminToken";

export class AdminPanel {
  constructor(root, { onSocket, notices }) {
    this.root = root;
    this.onSocket = onSocket; // tells the header which socket to show (or null)
    this.notices = notices;
    this.socket = null;
    this.pushes = 0;
    this.maintenance = false;
    this.namespaces = []; // the gateway's own list, from /api/v1/limits (setNamespaces)
    this.tokenInput = $("#admin-token", root);
    $("#admin-login", root).addEventListener("submit", (e) => { e.preventDefault(); this.connect(this.tokenInput.value.trim()); });
    $("#admin-forget", root).addEventListener("click", () => this.forget());
    $("#broadcast-form", root).addEventListener("submit", (e) => { e.preventDefault(); this.broadcast(); });
    $("#kick-form", root).addEventListener("submit", (e) => { e.preventDefault(); this.kick(); });
    $("#maintenance-switch", root).addEventListener("click", () => this.toggleMaintenance());
    this.setControls(false);
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      this.tokenInput.value = saved;
      this.connect(saved);
    }
  }

  connect(token) {
    this.disconnect();
    if (!token) return this.login("error", "Paste an admin token first.");
    sessionStorage.setItem(TOKEN_KEY, token);
    const socket = new NamespaceSocket("/admin", { auth: () => ({ token }) });
    this.socket = socket;
    this.onSocket(socket);
    this.login("pending", `connecting as ${describe(token)}…`);
    socket.on("connect", () => {
      this.login("ok", `connected as ${describe(token)}`);
      this.setControls(true);
      this.refreshStats(); // the first admin.stats push can be 5 s away
    });
    socket.on("disconnect", (reason) => this.login("pending", `${reason}; reconnecting…`));
    socket.on("connect_error", ({ code, message }) => this.login("error", `${code ?? "REFUSED"}: ${message}`));
    socket.on("state", (state) => {
      if (state !== "connected") this.setControls(false);
      if (state === "failed") this.root.dataset.adminState = "refused";
    });
    socket.on("admin.stats", (stats) => this.showStats(stats, true));
    socket.on("admin.alert", (alert) => this.notices.add("alert", alert));
    // A symbol gained its first subscriber in the cluster, or lost its last: fetch the merged
    // table once the notices of a burst have passed (one request, not one per notice).
    socket.on("market.occupancy", () => {
      clearTimeout(this.occupancyRefresh);
      this.occupancyRefresh = setTimeout(() => this.refreshStats(), 1000);
    });
    socket.on("auth.expiring", ({ expiresInMs }) => this.notices.add("alert", { level: "warning", message: `The admin token expires in ${Math.round(expiresInMs / 1000)} s: paste a new one.`, ts: Date.now() }));
    socket.on("error", (error) => this.notices.add("alert", { level: "warning", message: `${error.code}: ${error.message ?? ""}`, ts: Date.now() }));
    socket.open();
  }

  refreshStats() {
    this.socket?.request("admin.command", { command: "stats" })
      .then((reply) => reply?.ok && this.showStats(reply.stats, false)).catch(() => {});
  }

  disconnect() {
    this.socket?.close();
    this.socket = null;
    this.onSocket(null);
    this.setControls(false);
  }

  forget() {
    sessionStorage.removeItem(TOKEN_KEY);
    this.tokenInput.value = "";
    this.disconnect();
    this.login("idle", "No token: the admin view is off.");
  }

  login(state, text) {
    const status = $("#admin-status", this.root);
    status.dataset.state = state;
    setText(status, text);
    this.root.dataset.adminState = state;
  }

  setControls(enabled) {
    for (const control of this.root.querySelectorAll("[data-needs-admin] :is(button, input, select, textarea)")) control.disabled = !enabled;
    this.root.classList.toggle("admin-live", enabled);
  }

  /** The broadcast choices: every namespace the gateway serves, as /api/v1/limits lists them. */
  setNamespaces(namespaces) {
    if (namespaces.join() === this.namespaces.join()) return;
    this.namespaces = namespaces;
    const box = $("#broadcast-namespaces", this.root);
    const live = this.root.classList.contains("admin-live");
    box.replaceChildren(
      el("legend", {}, "Namespaces"),
      ...namespaces.map((namespace) => el("label", { class: "check" }, el("input", { type: "checkbox", value: namespace, checked: "", ...(live ? {} : { disabled: "" }) }), namespace)),
    );
  }

  showStats(stats, pushed) {
    if (pushed) this.root.dataset.statsPushes = ++this.pushes;
    const grid = $("#admin-stats", this.root);
    const connections = stats.connections ?? {};
    const most = Math.max(1, ...Object.values(connections));
    const rows = Object.entries(connections).map(([namespace, count]) =>
      el("tr", { dataset: { namespace } },
        el("th", { scope: "row" }, namespace),
        el("td", { class: "num", dataset: { stat: `connections.${namespace}` } }, formatCount(count)),
        el("td", { class: "bar" }, el("span", { style: `width:${(count / most) * 100}%` }))));
    $("#admin-connections", this.root).replaceChildren(...rows);
    const tiles = [
      ["messagesInPerSecond", "messages in/s", formatRate(stats.messagesInPerSecond)],
      ["messagesOutPerSecond", "messages out/s", formatRate(stats.messagesOutPerSecond)],
      ["engineConnections", "engine sessions", formatCount(stats.engineConnections)],
      ["uniqueUsers", "unique users", formatCount(stats.uniqueUsers)],
      ["slowConsumers", "slow consumers", formatCount(stats.slowConsumers), stats.slowConsumers > 0 ? "warn" : ""],
      ["rateLimited", "rate limited", formatCount(stats.rateLimited), stats.rateLimited > 0 ? "warn" : ""],
      ["redis", "Redis", stats.redis, stats.redis === "down" ? "bad" : stats.redis === "up" ? "good" : ""],
      ["maintenance", "maintenance", stats.maintenance ? "on" : "off", stats.maintenance ? "warn" : ""],
      ["uptimeSeconds", "uptime", formatDuration(stats.uptimeSeconds)],
      ["instances", "instances", formatCount(stats.instances ?? 1)],
    ];
    grid.replaceChildren(...tiles.map(([key, label, value, tone]) =>
      el("div", { class: `tile ${tone ?? ""}` }, el("span", { class: "label" }, label), el("span", { class: "value", dataset: { stat: key } }, value))));
    setText($("#admin-updated", this.root), `${pushed ? "pushed" : "fetched"} ${clockTime(stats.ts ?? Date.now()).slice(0, 8)}`);
    this.setMaintenance(Boolean(stats.maintenance));
    this.showOccupancy(stats.occupancy?.symbols ?? {});
  }

  /** Subscribers per symbol and channel, most watched first (added up over instances when fetched). */
  showOccupancy(symbols) {
    const total = (channels) => Object.values(channels).reduce((sum, count) => sum + count, 0);
    const entries = Object.entries(symbols).sort((a, b) => total(b[1]) - total(a[1]) || a[0].localeCompare(b[0]));
    const rows = entries.map(([symbol, channels]) =>
      el("tr", { dataset: { occupancy: symbol } },
        el("th", { scope: "row" }, symbol),
        el("td", {}, Object.entries(channels).map(([channel, count]) => `${channel} ${formatCount(count)}`).join(" · ")),
        el("td", { class: "num", dataset: { stat: `occupancy.${symbol}` } }, formatCount(total(channels)))));
    $("#admin-occupancy", this.root).replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "3" }, "no subscriptions"))]));
  }

  setMaintenance(on) {
    this.maintenance = on;
    $("#maintenance-switch", this.root).setAttribute("aria-checked", String(on));
    setText($("#maintenance-state", this.root), on ? "on" : "off");
  }

  async broadcast() {
    const message = $("#broadcast-message", this.root).value.trim();
    const level = $("#broadcast-level", this.root).value;
    const chosen = [...this.root.querySelectorAll("#broadcast-namespaces input:checked")].map((box) => box.value);
    if (!message) return this.result("#broadcast-result", false, "Write a message first.");
    if (!chosen.length) return this.result("#broadcast-result", false, "Pick at least one namespace.");
    // All ticked: leave `namespaces` out, which means every namespace.
    const payload = chosen.length === this.namespaces.length ? { message, level } : { message, level, namespaces: chosen };
    const reply = await this.send("#broadcast-result", "admin.broadcast", payload);
    if (reply) this.result("#broadcast-result", true, `Sent (${level}) to ${reply.namespaces.join(", ")}`);
  }

  async toggleMaintenance() {
    const enabled = !this.maintenance;
    const message = $("#maintenance-message", this.root).value.trim();
    const reply = await this.send("#maintenance-result", "admin.command", { command: "maintenance", enabled, ...(message ? { message } : {}) });
    if (!reply) return;
    this.setMaintenance(reply.maintenance);
    this.result("#maintenance-result", true, reply.maintenance ? "Maintenance on: new connections get MAINTENANCE" : "Maintenance off");
    this.refreshStats(); // the tiles should not wait 5 s to agree with the switch
  }

  async kick() {
    const kind = $("#kick-kind", this.root).value;
    const target = $("#kick-target", this.root).value.trim();
    if (!target) return this.result("#kick-result", false, `Enter a ${kind === "sid" ? "socket id" : "user id"}.`);
    const reply = await this.send("#kick-result", "admin.command", { command: "kick", [kind]: target });
    if (reply) this.result("#kick-result", true, `Kicked ${reply.kicked} connection${reply.kicked === 1 ? "" : "s"} (${kind} ${target})`);
  }

  // Sends one admin event; shows the refusal (code and message) and returns null on failure.
  async send(resultSelector, event, payload) {
    try {
      const reply = await this.socket.request(event, payload);
      if (reply?.ok) return reply;
      this.result(resultSelector, false, `${reply?.error?.code}: ${reply?.error?.message}`);
    } catch (error) {
      this.result(resultSelector, false, error.message);
    }
    return null;
  }

  result(selector, ok, text) {
    const node = $(selector, this.root);
    node.dataset.state = ok ? "ok" : "error";
    setText(node, `${ok ? "✓" : "✗"} ${text}`);
  }
}

// "adm (admin), expires in 59 min" from the token's claims, for display only (the gateway verifies).
function describe(token) {
  try {
    const claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    const who = claims.userId ?? claims.sub ?? "?";
    const minutes = claims.exp ? Math.round((claims.exp * 1000 - Date.now()) / 60000) : null;
    return `${who} (${claims.role ?? "user"})${minutes === null ? "" : `, token expires in ${minutes} min`}`;
  } catch {
    return "an unreadable token";
  }
}
