// Wires the page: the symbols and namespaces from /api/v1/limits, one socket per namespace, the panels, and
// the connection state of each namespace in the header.

import { NamespaceSocket } from "./socketio-client.js";
import { PricesPanel } from "./prices.js";
import { MarketPanel } from "./market.js";
import { AdminPanel } from "./admin.js";
import { Notices } from "./notices.js";
import { setupTheme } from "./theme.js";
import { $, setText } from "./dom.js";

const SYMBOL_KEY = "dashboard.symbol";
const HEARTBEAT_MS = 1000; // market.heartbeat while a symbol is quiet (docs/market-data.md)

setupTheme();
setText($("#gateway-host"), location.host);

const notices = new Notices($("#notices"), $("#banner"));
const prices = new NamespaceSocket("/prices");
const market = new NamespaceSocket("/market");
let symbols = [];
let maxSymbols = 100;

const pricesPanel = new PricesPanel($("#prices-body"), { onSelect: choose });
const marketPanel = new MarketPanel({
  section: $("#book"),
  title: $("#market-symbol"),
  ticker: { last: $("#ticker-last"), change: $("#ticker-change"), volume: $("#ticker-volume") },
  status: $("#market-status"),
  checksum: $("#book-checksum"),
  ladder: $("#ladder-body"),
  spread: $("#ladder-spread"),
  tape: $("#tape-body"),
  chart: $("#depth-chart"),
  error: $("#market-error"),
  depth: $("#book-depth"),
  stale: $("#market-stale"),
  gaps: { summary: $("#gap-summary"), list: $("#gap-list") },
}, market);

const adminPill = watch($("#conn-admin"), null);
const adminPanel = new AdminPanel($("#admin"), { onSocket: (socket) => adminPill.follow(socket), notices });
watch($("#conn-prices"), prices);
watch($("#conn-market"), market);

for (const [socket, errorLine] of [[prices, $("#prices-error")], [market, $("#market-error")]]) {
  socket.on("system.broadcast", (message) => notices.add("broadcast", message));
  socket.on("server.shutdown", ({ message, reconnectAfterMs }) =>
    notices.add("alert", { level: "warning", message: `${message ?? "The gateway is shutting down"} (reconnecting in ${Math.round((reconnectAfterMs ?? 0) / 1000)} s)` }));
  socket.on("error", (error) => setText(errorLine, `${error.code}: ${error.message ?? ""}`));
}

let heartbeats = true; // off when the gateway refuses heartbeatMs (one without SPEC §11)
prices.on("connect", () => { pricesPanel.clearAllStale(); subscribePrices(); });
prices.on("price.update", (tick) => pricesPanel.update(tick));
prices.on("market.stale", (notice) => pricesPanel.stale(notice));
prices.on("market.live", (notice) => pricesPanel.live(notice));
prices.on("market.heartbeat", (beat) => pricesPanel.heartbeat(beat));
$("#market-picker").addEventListener("change", (e) => choose(e.target.value));

function choose(symbol) {
  localStorage.setItem(SYMBOL_KEY, symbol);
  $("#market-picker").value = symbol;
  pricesPanel.select(symbol);
  marketPanel.choose(symbol);
}

async function subscribePrices() {
  if (!symbols.length || !prices.connected) return;
  try {
    const request = { symbols: symbols.slice(0, maxSymbols) };
    if (heartbeats) request.heartbeatMs = HEARTBEAT_MS;
    let reply = await prices.request("subscribe", request);
    if (heartbeats && reply?.error?.code === "INVALID_PAYLOAD") {
      heartbeats = false; // an older gateway: subscribe as before, no heartbeats
      delete request.heartbeatMs;
      reply = await prices.request("subscribe", request);
    }
    if (!reply?.ok) throw new Error(`${reply?.error?.code}: ${reply?.error?.message}`);
    for (const tick of reply.latest ?? []) pricesPanel.update(tick);
    for (const notice of reply.stale ?? []) pricesPanel.stale(notice); // then market.stale, the same again
    setText($("#prices-error"), "");
  } catch (error) {
    setText($("#prices-error"), `subscribe failed: ${error.message}`);
  }
}

// The configured symbols; with learned symbols ("*") the list grows, so it is read again.
async function loadSymbols() {
  try {
    const response = await fetch("/api/v1/limits", { cache: "no-store" });
    const limits = await response.json();
    maxSymbols = limits.subscriptions?.maxSymbolsPerConnection ?? maxSymbols;
    adminPanel.setNamespaces(limits.namespaces ?? []);
    const fresh = (limits.symbols ?? []).filter((symbol) => !symbols.includes(symbol));
    if (fresh.length || !symbols.length) {
      symbols.push(...fresh);
      pricesPanel.setSymbols(symbols);
      $("#market-picker").replaceChildren(...symbols.map((symbol) => new Option(symbol, symbol)));
      const saved = localStorage.getItem(SYMBOL_KEY);
      const chosen = marketPanel.symbol ?? (symbols.includes(saved) ? saved : symbols[0]);
      if (chosen) choose(chosen);
      subscribePrices();
    }
    setText($("#prices-error"), symbols.length ? "" : "The gateway has no symbols yet.");
    if (limits.symbolsLearned) setTimeout(loadSymbols, 15_000);
  } catch (error) {
    setText($("#prices-error"), `Could not read /api/v1/limits (${error.message}); retrying…`);
    setTimeout(loadSymbols, 3000);
  }
}

/** Keeps a header pill in step with a socket's state; `follow` switches sockets (admin). */
function watch(pill, socket) {
  let current = null;
  const show = () => {
    const state = current ? current.state : "off";
    pill.dataset.state = state;
    let text = { connecting: "connecting", connected: "connected", closed: "off", idle: "off", off: "off" }[state] ?? state;
    if (state === "reconnecting") {
      const wait = Math.max(0, Math.ceil(((current.nextAttemptAt ?? Date.now()) - Date.now()) / 1000));
      text = `retry in ${wait}s`;
    }
    if (state === "failed") text = `refused${current.lastError?.code ? `: ${current.lastError.code}` : ""}`;
    setText($(".state", pill), text);
    pill.title = current?.lastError ? `${current.lastError.code ?? ""} ${current.lastError.message}`.trim() : "";
  };
  const follow = (socket) => {
    current?.off("state", show);
    current = socket;
    current?.on("state", show);
    show();
  };
  follow(socket);
  setInterval(show, 1000); // the retry countdown
  return { follow };
}

// "last heard": the newest tick or heartbeat on /prices; with heartbeats on, a quiet market
// still says it is alive within about a second.
setInterval(() => {
  const heard = pricesPanel.lastHeard();
  const node = $("#prices-heard");
  const age = heard === null || !prices.connected ? null : (Date.now() - heard) / 1000;
  setText(node, age === null ? "" : `last heard ${age.toFixed(1)} s ago`);
  node.title = heartbeats ? `heartbeat every ${HEARTBEAT_MS / 1000} s while a symbol is quiet` : "no heartbeats (the gateway refused heartbeatMs)";
  node.classList.toggle("late", age !== null && age > (heartbeats ? 3 * HEARTBEAT_MS / 1000 : 10));
}, 500);

// Round-trip time to the gateway, from the `ping` event's ack.
setInterval(async () => {
  if (!prices.connected) return setText($("#rtt"), "");
  const started = performance.now();
  try {
    await prices.request("ping", {}, 3000);
    setText($("#rtt"), `${Math.round(performance.now() - started)} ms`);
  } catch {
    setText($("#rtt"), "");
  }
}, 5000);

prices.open();
market.open();
loadSymbols();
