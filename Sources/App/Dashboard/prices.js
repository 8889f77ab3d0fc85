// The live prices table (/prices price.update): last, bid, ask, spread, volume, a sparkline of
// the last minute and the age of the latest tick. A row click picks the symbol of the market view.

import { el, setText, flash, difference } from "./dom.js";

const HISTORY_MS = 60_000;

export class PricesPanel {
  constructor(tbody, { onSelect }) {
    this.tbody = tbody;
    this.onSelect = onSelect;
    this.rows = new Map(); // symbol → {row, cells, last, history, ts}
    setInterval(() => this.refresh(), 1000);
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
      this.rows.set(symbol, { row, cells, last: null, history: [], ts: null });
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
    entry.received = Date.now();
    entry.history.push([entry.received, Number(tick.price)]);
  }

  // Once a second: ages and sparklines (cheap to redraw, no need at tick rate).
  refresh() {
    const now = Date.now();
    for (const entry of this.rows.values()) {
      while (entry.history.length && entry.history[0][0] < now - HISTORY_MS) entry.history.shift();
      if (entry.received) {
        const age = (now - entry.received) / 1000;
        setText(entry.cells.age, age < 10 ? `${age.toFixed(1)}s` : `${Math.round(age)}s`);
        entry.cells.age.classList.toggle("stale", age > 10);
      }
      entry.cells.spark.innerHTML = sparkline(entry.history);
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
