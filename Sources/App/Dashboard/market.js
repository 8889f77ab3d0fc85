// The market view of one symbol over /market: the order book (depth chart + top-10 ladder),
// the trade tape and the ticker. The book is checked against every message's checksum; a gap
// or a mismatch resubscribes, whose ack carries a fresh snapshot (SPEC §3).

import { OrderBook } from "./book.js";
import { DepthChart } from "./depth-chart.js";
import { el, setText, flash, difference, clockTime } from "./dom.js";

const CHANNELS = ["depth", "trades", "ticker"];
const CADENCE = "100ms";
const LADDER_ROWS = 10;
const TAPE_ROWS = 60;

export class MarketPanel {
  constructor(ui, socket) {
    this.ui = ui; // {section, title, ticker, status, checksum, ladder, spread, tape, chart, error}
    this.socket = socket;
    this.symbol = null;
    this.book = null;
    this.syncing = false;
    this.resyncs = 0;
    this.failures = 0; // resyncs in a row without a good message between them
    this.frame = 0;
    this.chart = new DepthChart(ui.chart);
    this.ladder = buildLadder(ui.ladder);
    socket.on("connect", () => this.subscribe(CHANNELS));
    socket.on("disconnect", () => this.setBookState("offline"));
    socket.on("market.depth", (message) => this.depth(message));
    socket.on("market.trades", (message) => message.symbol === this.symbol && this.trades(message.trades));
    socket.on("market.ticker", (message) => message.symbol === this.symbol && this.ticker(message));
    socket.on("market.status", (message) => message.symbol === this.symbol && this.status(message.status));
  }

  choose(symbol) {
    if (symbol === this.symbol) return;
    const previous = this.symbol;
    this.symbol = symbol;
    this.book = null;
    this.resyncs = 0;
    this.failures = 0;
    setText(this.ui.title, symbol);
    this.ui.tape.replaceChildren();
    this.ui.status.hidden = true;
    this.ui.section.dataset.symbol = symbol;
    this.render();
    if (previous && this.socket.connected) {
      this.socket.request("unsubscribe", { channels: CHANNELS, symbols: [previous] }).catch(() => {});
    }
    if (this.socket.connected) this.subscribe(CHANNELS);
  }

  async subscribe(channels) {
    const symbol = this.symbol;
    if (!symbol) return;
    this.syncing = true;
    this.setBookState("syncing");
    let reply;
    try {
      reply = await this.socket.request("subscribe", { channels, symbols: [symbol], cadence: CADENCE });
    } catch (error) {
      return symbol === this.symbol && this.fail(error.message);
    }
    if (symbol !== this.symbol) return; // the user picked another symbol meanwhile
    if (!reply?.ok) return this.fail(`${reply?.error?.code}: ${reply?.error?.message}`);
    setText(this.ui.error, "");
    this.syncing = false;
    this.book = new OrderBook(symbol);
    for (const snapshot of reply.snapshots ?? []) this.depth(snapshot);
    for (const latest of reply.latest ?? []) if ("last" in latest) this.ticker(latest);
  }

  fail(text) {
    this.syncing = false;
    setText(this.ui.error, text);
    this.setBookState("error");
  }

  depth(message) {
    // While a (re)subscribe is in flight, old-chain deltas are dropped: the ack's snapshot
    // replaces them and the stream after it chains onto that snapshot.
    if (message.symbol !== this.symbol || this.syncing || !this.book) return;
    const outcome = this.book.apply(message);
    if (outcome === "stale") return;
    // A snapshot that fails its own checksum would fail again: show it, do not loop.
    if (outcome === "gap" || (outcome === "mismatch" && message.type !== "snapshot")) {
      this.resyncs++;
      this.lastProblem = `${outcome} at seq ${message.seq}`;
      this.publish();
      return this.resync();
    }
    if (outcome === "ok") this.failures = 0;
    this.setBookState("live");
    this.publish();
    this.render();
  }

  // A gap resyncs at once; problems that keep coming back wait longer each time (up to 10 s),
  // so a book that cannot check out does not hammer the gateway.
  resync() {
    const delay = this.failures ? Math.min(10_000, 500 * 2 ** (this.failures - 1)) : 0;
    this.failures = (this.failures ?? 0) + 1;
    this.syncing = true;
    this.setBookState("syncing");
    const symbol = this.symbol;
    setTimeout(() => symbol === this.symbol && this.socket.connected && this.subscribe(["depth"]), delay);
  }

  // The book's state as attributes, updated with every message (tests and tooling read these).
  publish() {
    const data = this.ui.section.dataset;
    const { bids, asks } = this.book.sorted(1);
    data.seq = this.book.seq ?? "";
    data.checksumOk = this.book.checksumOk === null ? "" : String(this.book.checksumOk);
    data.verified = this.book.verified;
    data.resyncs = this.resyncs;
    data.bestBid = bids[0]?.[0] ?? "";
    data.bestAsk = asks[0]?.[0] ?? "";
  }

  setBookState(state) {
    this.ui.section.dataset.bookState = state;
    this.render();
  }

  render() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  draw() {
    const book = this.book?.sorted() ?? { bids: [], asks: [] };
    this.chart.update(book);
    fillLadder(this.ladder, book, this.ui.spread);
    const state = this.ui.section.dataset.bookState;
    const ok = this.book?.checksumOk;
    const parts = [
      this.book?.seq != null ? `seq ${this.book.seq}` : null,
      state === "live" ? (ok ? "checksum ok" : "checksum mismatch") : state,
      this.book ? `${this.book.verified.toLocaleString("en-US")} verified` : null,
      `${this.resyncs} resync${this.resyncs === 1 ? "" : "s"}`,
    ];
    setText(this.ui.checksum, parts.filter(Boolean).join(" · "));
    this.ui.checksum.className = `badge ${state === "live" && ok ? "ok" : state === "live" || state === "error" ? "bad" : "muted"}`;
    this.ui.checksum.title = this.lastProblem ? `last resync: ${this.lastProblem}` : "";
  }

  trades(trades) {
    for (const trade of trades) {
      const row = el("tr", { class: `new ${trade.side}` },
        el("td", { class: "time" }, clockTime(trade.ts)),
        el("td", { class: `num ${trade.side === "buy" ? "up" : "down"}` }, trade.price),
        el("td", { class: "num" }, trade.qty),
        el("td", { class: "side" }, trade.side));
      this.ui.tape.prepend(row);
    }
    while (this.ui.tape.rows.length > TAPE_ROWS) this.ui.tape.lastElementChild.remove();
  }

  ticker(ticker) {
    const cells = this.ui.ticker;
    const direction = this.lastTicker ? Math.sign(Number(ticker.last) - Number(this.lastTicker)) : 0;
    setText(cells.last, ticker.last);
    flash(cells.last, direction);
    this.lastTicker = ticker.last;
    setText(cells.change, `${Number(ticker.change24h) > 0 ? "+" : ""}${ticker.change24h}`);
    cells.change.className = `num ${Number(ticker.change24h) >= 0 ? "up" : "down"}`;
    setText(cells.volume, ticker.volume24h);
  }

  status(status) {
    this.ui.status.hidden = status === "trading";
    setText(this.ui.status, status);
  }
}

function buildLadder(tbody) {
  const rows = [];
  for (let i = 0; i < LADDER_ROWS; i++) {
    const cells = ["bidQty", "bid", "ask", "askQty"].map((name) => el("td", { class: `num ${name}` }, ""));
    tbody.append(el("tr", {}, ...cells));
    rows.push(cells);
  }
  return rows;
}

// Top 10 each side, with a bar for the cumulative quantity up to each level.
function fillLadder(rows, { bids, asks }, spreadCell) {
  const top = (side) => side.slice(0, LADDER_ROWS).reduce((sum, [, qty]) => sum + Number(qty), 0) || 1;
  const maxTotal = Math.max(top(bids), top(asks));
  let bidTotal = 0, askTotal = 0;
  rows.forEach(([bidQty, bid, ask, askQty], i) => {
    const b = bids[i], a = asks[i];
    bidTotal += b ? Number(b[1]) : 0;
    askTotal += a ? Number(a[1]) : 0;
    setText(bidQty, b?.[1] ?? "");
    setText(bid, b?.[0] ?? "");
    setText(ask, a?.[0] ?? "");
    setText(askQty, a?.[1] ?? "");
    bidQty.parentElement.style.setProperty("--bid", `${b ? (bidTotal / maxTotal) * 100 : 0}%`);
    bidQty.parentElement.style.setProperty("--ask", `${a ? (askTotal / maxTotal) * 100 : 0}%`);
  });
  if (bids[0] && asks[0]) {
    const spread = difference(asks[0][0], bids[0][0]);
    const bps = (Number(spread) / ((Number(asks[0][0]) + Number(bids[0][0])) / 2)) * 10_000;
    setText(spreadCell, `spread ${spread} · ${bps.toFixed(2)} bps`);
  } else {
    setText(spreadCell, "");
  }
}
