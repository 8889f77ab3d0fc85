// The live prices table (/prices price.update): last, bid, ask, spread, volume, a sparkline of
// the last minute and the age of the latest tick. A row click picks the symbol of the market view.
// A symbol the gateway declares stale (market.stale) is greyed with "stale N s" counting up
// until market.live; market.heartbeat tells a quiet market from a dead link ("last heard").

import { el, setText, flash, difference } from "./dom.js";

const HISTORY_MS = 60_000;

export class PricesPanel {
  constructor(tbody, { onSelect }) {
    this.tbody = tbody;
    this.onSelect = onSelect;
    this.rows = new Map(); // symbol → {row, cells, last, history, ts, received, heard, stale}
    this.heartbeatMs = 0;
    setInterval(() => this.refresh(), 1000);
    setInterval(() => this.refreshStale(), 200);
  }

  setSymbols(symbols) {
    for (const symbol of symbols) {
      if (this.rows.has(symbol)) continue;
      const cells = {};
      for (const name of ["price", "bid", "ask", "spread", "volume", "spark", "age"]) {
        cells[name] = el("td", { class: name === "spark" ? "spark" : "num", dataset: { field: name } }, name === "spark" ? "" : "–");
      }
      // The whole row is the click target; the button makes it reachable by keyboard.
      const pick = el("button", { class: "symbol", type: "button" }, symbol);
      const row = el("tr", { dataset: { symbol }, onclick: () => this.onSelect(symbol) }, el("th", { scope: "row" }, pick), ...Object.values(cells));
      this.tbody.append(row);
      this.rows.set(symbol, { row, cells, last: null, history: [], ts: null, heard: null, stale: null });
    }
  }

  select(symbol) {
    for (const [name, { row }] of this.rows) row.classList.toggle("selected", name === symbol);
  }

  update(tick) {
    const entry = this.rows.get(tick.symbol);
    if (!entry) return;
    const { cells } = entry;
    const direction = entry.last === null ? 0 : Math.sign(Number(tick.price) - Number(entry.last));
    setText(cells.price, tick.price);
    setText(cells.bid, tick.bid);
    setText(cells.ask, tick.ask);
    setText(cells.spread, difference(tick.ask, tick.bid));
    setText(cells.volume, tick.volume);
    if (direction) {
      flash(cells.price, direction);
      cells.price.dataset.direction = direction > 0 ? "up" : "down";
    }
    entry.last = tick.price;
    entry.ts = Number(tick.ts);
    entry.received = entry.heard = Date.now();
    entry.history.push([entry.received, Number(tick.price)]);
  }

  /** market.stale {symbol, reason, lastSourceTs, silentMs}: grey the row, count up from silentMs. */
  stale({ symbol, channel, reason, silentMs = 0, lastSourceTs }) {
    const entry = this.rows.get(symbol);
    if (!entry || channel) return; // a channel's staleness (the book's) is the market view's
    entry.stale = { since: Date.now() - Number(silentMs || 0), reason, lastSourceTs };
    entry.row.classList.add("stale");
    entry.row.dataset.stale = "true";
    entry.row.title = `${symbol}: no feed message since ${lastSourceTs ? new Date(Number(lastSourceTs)).toLocaleTimeString() : "the start"} (${reason ?? "silent"})`;
    this.showAge(entry, Date.now());
  }

  /** market.live {symbol, silentMs}: the feed speaks again; the next price.update follows. */
  live({ symbol, channel }) {
    const entry = this.rows.get(symbol);
    if (!entry || channel) return;
    this.clearStale(entry);
    this.showAge(entry, Date.now());
  }

  /** On a new connection the gateway says again what is stale (ack and market.stale). */
  clearAllStale() {
    for (const entry of this.rows.values()) this.clearStale(entry);
  }

  clearStale(entry) {
    entry.stale = null;
    entry.row.classList.remove("stale");
    delete entry.row.dataset.stale;
    entry.row.removeAttribute("title");
  }

  /** market.heartbeat: nothing was sent for the symbol lately, but the link is alive. */
  heartbeat({ symbol, gatewayTs }) {
    const entry = this.rows.get(symbol);
    if (!entry) return;
    entry.heard = Date.now();
    entry.gatewayTs = gatewayTs;
  }

  /** The most recent message (tick or heartbeat) of any symbol, ms since epoch, or null. */
  lastHeard() {
    let latest = null;
    for (const { heard } of this.rows.values()) if (heard && (latest === null || heard > latest)) latest = heard;
    return latest;
  }

  // Once a second: ages and sparklines (cheap to redraw, no need at tick rate).
  refresh() {
    const now = Date.now();
    for (const entry of this.rows.values()) {
      while (entry.history.length && entry.history[0][0] < now - HISTORY_MS) entry.history.shift();
      this.showAge(entry, now);
      entry.cells.spark.innerHTML = sparkline(entry.history);
    }
  }

  refreshStale() {
    const now = Date.now();
    for (const entry of this.rows.values()) if (entry.stale) this.showAge(entry, now);
  }

  // The age of the latest tick (amber after 10 s), or "stale N s" while the gateway says so;
  // the tooltip adds when the symbol was last heard of (a tick or a heartbeat).
  showAge(entry, now) {
    const cell = entry.cells.age;
    if (entry.stale) {
      setText(cell, `stale ${((now - entry.stale.since) / 1000).toFixed(1)} s`);
      cell.classList.add("stale");
    } else if (entry.received) {
      const age = (now - entry.received) / 1000;
      setText(cell, age < 10 ? `${age.toFixed(1)}s` : `${Math.round(age)}s`);
      cell.classList.toggle("stale", age > 10);
    } else {
      cell.classList.remove("stale");
    }
    if (entry.heard) {
      const heard = (now - entry.heard) / 1000;
      cell.title = `last tick ${entry.received ? `${((now - entry.received) / 1000).toFixed(1)} s` : "–"} ago · last heard ${heard.toFixed(1)} s ago`;
      cell.dataset.heard = String(entry.heard);
    }
  }
}

// An inline SVG polyline (innerHTML, so no namespace URL is needed in our sources).
function sparkline(points) {
  if (points.length < 2) return "";
  const values = points.map(([, v]) => v);
  const low = Math.min(...values), high = Math.max(...values);
  const t0 = points[0][0], span = Math.max(1, points.at(-1)[0] - t0);
  const coords = points.map(([t, v]) => `${(((t - t0) / span) * 100).toFixed(1)},${(22 - ((v - low) / (high - low || 1)) * 20).toFixed(1)}`);
  const trend = values.at(-1) >= values[0] ? "up" : "down";
  return `<svg viewBox="0 0 100 24" preserveAspectRatio="none" aria-hidden="true"><polyline class="${trend}" points="${coords.join(" ")}"/></svg>`;
}
