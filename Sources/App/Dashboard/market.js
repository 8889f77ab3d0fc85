// The market view of one symbol over /market: the order book (depth chart + top-10 ladder),
// the trade tape and the ticker. The book is checked against every message's checksum; a gap
// or a mismatch resubscribes, whose ack carries a fresh snapshot (SPEC §3). The gateway's
// freshness and continuity notices (docs/market-data.md) show as they come: market.stale /
// market.live for the symbol's feed and for the book, and every market.gap in a short log.

import { OrderBook, DEPTHS } from "./book.js";
import { DepthChart } from "./depth-chart.js";
import { el, setText, flash, difference, clockTime } from "./dom.js";

const CHANNELS = ["depth", "trades", "ticker"];
const CADENCE = "100ms";
const LADDER_ROWS = 10;
const TAPE_ROWS = 60;
const GAP_ROWS = 30;
const DEPTH_KEY = "dashboard.depth";
const REASONS = { "feed-gap": "feed gap", silent: "feed silent" };

export class MarketPanel {
  constructor(ui, socket) {
    // ui: {section, title, ticker, status, checksum, ladder, spread, tape, chart, error,
    //      depth (the depth <select>), stale (the feed-stale badge), gaps: {summary, list}}
    this.ui = ui;
    this.socket = socket;
    this.symbol = null;
    this.book = null;
    this.depthLevels = savedDepth(); // null: the whole book; else 10, 50, 200 or 1000
    this.generation = 0; // bumped by every symbol or depth choice: older acks are ignored
    this.syncing = false;
    this.resyncs = 0;
    this.failures = 0; // resyncs in a row without a good message between them
    this.feedStale = null; // {since, reason, lastSourceTs}: the symbol's feed is silent
    this.bookStale = null; // {since, reason}: the book broke (feed gap) until a snapshot heals it
    this.gaps = new Map(); // "symbol channel" → {count, skipped}
    this.epoch = null;
    this.frame = 0;
    this.chart = new DepthChart(ui.chart);
    this.ladder = buildLadder(ui.ladder);
    this.setupDepthPicker();
    socket.on("connect", () => { this.feedStale = this.bookStale = null; this.subscribe(CHANNELS); });
    socket.on("disconnect", () => this.setBookState("offline"));
    socket.on("market.depth", (message) => this.depth(message));
    socket.on("market.trades", (message) => message.symbol === this.symbol && this.trades(message.trades));
    socket.on("market.ticker", (message) => message.symbol === this.symbol && this.ticker(message));
    socket.on("market.status", (message) => message.symbol === this.symbol && this.status(message.status));
    socket.on("market.stale", (message) => message.symbol === this.symbol && this.stale(message));
    socket.on("market.live", (message) => message.symbol === this.symbol && this.live(message));
    socket.on("market.gap", (message) => this.gap(message));
    setInterval(() => this.showFeedStale(), 200); // the stale badge counts up
  }

  setupDepthPicker() {
    const picker = this.ui.depth;
    picker.replaceChildren(new Option("full", ""), ...DEPTHS.map((n) => new Option(String(n), String(n))));
    picker.value = this.depthLevels === null ? "" : String(this.depthLevels);
    picker.addEventListener("change", () => this.chooseDepth(picker.value ? Number(picker.value) : null));
    this.ui.section.dataset.depth = picker.value;
  }

  /** Another depth for the book: the depth channel is unsubscribed and subscribed again, and the
   *  ack's snapshot (at the new depth) starts a new book. */
  async chooseDepth(levels) {
    if (levels === this.depthLevels) return;
    this.depthLevels = levels;
    if (levels === null) localStorage.removeItem(DEPTH_KEY);
    else localStorage.setItem(DEPTH_KEY, String(levels));
    this.ui.depth.value = levels === null ? "" : String(levels);
    this.ui.section.dataset.depth = this.ui.depth.value;
    this.resyncs = 0;
    this.failures = 0;
    this.lastProblem = null;
    this.bookStale = null;
    const generation = ++this.generation;
    const symbol = this.symbol;
    if (!symbol || !this.socket.connected) return;
    this.syncing = true; // deltas of the old depth are dropped from here on
    this.setBookState("syncing");
    await this.socket.request("unsubscribe", { channels: ["depth"], symbols: [symbol] }).catch(() => {});
    if (generation === this.generation && this.socket.connected) this.subscribe(["depth"]);
  }

  choose(symbol) {
    if (symbol === this.symbol) return;
    const previous = this.symbol;
    this.symbol = symbol;
    this.book = null;
    this.resyncs = 0;
    this.failures = 0;
    this.lastProblem = null;
    this.feedStale = this.bookStale = null;
    this.generation++;
    setText(this.ui.title, symbol);
    this.ui.tape.replaceChildren();
    this.ui.status.hidden = true;
    this.ui.section.dataset.symbol = symbol;
    this.showGaps();
    this.showFeedStale();
    this.render();
    if (previous && this.socket.connected) {
      this.socket.request("unsubscribe", { channels: CHANNELS, symbols: [previous] }).catch(() => {});
    }
    if (this.socket.connected) this.subscribe(CHANNELS);
  }

  async subscribe(channels) {
    const symbol = this.symbol;
    if (!symbol) return;
    const generation = this.generation;
    const depthLevels = this.depthLevels;
    this.syncing = true;
    this.setBookState("syncing");
    const request = { channels, symbols: [symbol], cadence: CADENCE };
    if (depthLevels !== null && channels.includes("depth")) request.depth = depthLevels;
    let reply;
    try {
      reply = await this.socket.request("subscribe", request);
    } catch (error) {
      return generation === this.generation && this.fail(error.message);
    }
    if (generation !== this.generation) return; // another symbol or depth was chosen meanwhile
    if (!reply?.ok) return this.fail(`${reply?.error?.code}: ${reply?.error?.message}`);
    setText(this.ui.error, "");
    if (reply.epoch !== undefined) {
      // Another epoch: the gateway started again and its sequences with it (a restart gap).
      if (this.epoch !== null && reply.epoch !== this.epoch) {
        this.gap({ symbol, channel: channels.join(","), reason: "restart", fromSeq: null, toSeq: null, epoch: reply.epoch });
      }
      this.epoch = reply.epoch;
    }
    this.syncing = false;
    this.book = new OrderBook(symbol, depthLevels);
    for (const snapshot of reply.snapshots ?? []) this.depth(snapshot);
    for (const latest of reply.latest ?? []) if ("last" in latest) this.ticker(latest);
    for (const stale of reply.stale ?? []) if (stale.symbol === symbol) this.stale(stale);
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
    // A payload of another depth than the book's (one of a replaced subscription) is not ours.
    if (message.depth !== undefined && message.depth !== this.book.depth) return;
    if (message.type === "snapshot") this.bookStale = null; // a snapshot heals a broken book
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
    const generation = this.generation;
    setTimeout(() => generation === this.generation && this.socket.connected && this.subscribe(["depth"]), delay);
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
    data.bidLevels = this.book.bids.size;
    data.askLevels = this.book.asks.size;
  }

  setBookState(state) {
    // A book the gateway declared stale stays so until market.live and a snapshot.
    this.ui.section.dataset.bookState = this.bookStale && state !== "offline" ? "stale" : state;
    this.render();
  }

  /** market.stale: with channel "depth" the book broke (reason feed-gap); without, the
   *  symbol's feed has been silent for silentMs. */
  stale({ channel, reason, silentMs = 0, lastSourceTs }) {
    const since = Date.now() - Number(silentMs || 0);
    if (channel === "depth") {
      this.bookStale = { since, reason };
      this.setBookState("stale");
    } else if (!channel) {
      this.feedStale = { since, reason, lastSourceTs };
      this.showFeedStale();
    }
  }

  /** market.live: the feed speaks again; for the book, a snapshot follows and heals it. */
  live({ channel }) {
    if (channel === "depth") {
      this.bookStale = null;
      this.setBookState(this.syncing ? "syncing" : "live");
    } else if (!channel) {
      this.feedStale = null;
      this.showFeedStale();
    }
  }

  showFeedStale() {
    const badge = this.ui.stale;
    const stale = this.feedStale;
    this.ui.section.classList.toggle("feed-stale", !!stale);
    this.ui.section.dataset.feedStale = stale ? "true" : "";
    badge.hidden = !stale;
    if (!stale) return;
    setText(badge, `feed stale ${((Date.now() - stale.since) / 1000).toFixed(1)} s`);
    badge.title = `${REASONS[stale.reason] ?? stale.reason ?? "stale"}${stale.lastSourceTs ? ` · last source message ${clockTime(stale.lastSourceTs)}` : ""}`;
  }

  /** market.gap: what this socket will not receive, declared. Logged (newest first) and
   *  counted per symbol and channel; a trades gap also marks the tape. */
  gap(notice) {
    const { symbol, channel, fromSeq, toSeq, reason } = notice;
    const key = `${symbol} ${channel}`;
    const total = this.gaps.get(key) ?? { count: 0, skipped: 0 };
    const skipped = fromSeq != null && toSeq != null && toSeq >= fromSeq ? toSeq - fromSeq + 1 : 0;
    total.count++;
    total.skipped += skipped;
    this.gaps.set(key, total);
    const range = fromSeq != null ? `${fromSeq}–${toSeq}` : `epoch ${notice.epoch}`;
    const list = this.ui.gaps.list;
    list.prepend(el("li", { dataset: { symbol, channel, reason } },
      el("time", {}, clockTime(Date.now())),
      el("span", { class: "symbol-name" }, symbol),
      el("span", { class: "channel" }, channel),
      el("span", { class: `reason ${reason}` }, reason),
      el("span", { class: "range" }, range)));
    while (list.children.length > GAP_ROWS) list.lastElementChild.remove();
    if (channel === "trades" && symbol === this.symbol) {
      this.ui.tape.prepend(el("tr", { class: "gap" },
        el("td", { colspan: "4" }, `⋯ ${skipped ? `${skipped} trade${skipped === 1 ? "" : "s"}` : "trades"} skipped (${reason}, seq ${range})`)));
    }
    this.showGaps();
  }

  showGaps() {
    const mine = [...this.gaps].filter(([key]) => key.startsWith(`${this.symbol} `));
    const count = mine.reduce((sum, [, { count }]) => sum + count, 0);
    this.ui.section.dataset.gaps = count;
    setText(this.ui.gaps.summary, mine.length
      ? mine.map(([key, { count, skipped }]) => `${key.slice(this.symbol.length + 1)} ${count}${skipped ? ` (${skipped} seq)` : ""}`).join(" · ")
      : "none");
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
    const stale = this.bookStale;
    const parts = [
      this.book?.seq != null ? `seq ${this.book.seq}` : null,
      stale ? `book stale (${REASONS[stale.reason] ?? stale.reason ?? "stale"})`
        : state === "live" ? (ok ? "checksum ok" : "checksum mismatch") : state,
      this.book ? `${this.book.verified.toLocaleString("en-US")} verified` : null,
      `${this.resyncs} resync${this.resyncs === 1 ? "" : "s"}`,
    ];
    setText(this.ui.checksum, parts.filter(Boolean).join(" · "));
    this.ui.checksum.className = `badge ${stale ? "warn" : state === "live" && ok ? "ok" : state === "live" || state === "error" ? "bad" : "muted"}`;
    const depth = `depth ${this.book?.depth ?? "full"} (checksum over ${this.book?.depth ? "every level held" : "the top 10"})`;
    this.ui.checksum.title = [depth, this.lastProblem ? `last resync: ${this.lastProblem}` : null].filter(Boolean).join(" · ");
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

function savedDepth() {
  const saved = Number(localStorage.getItem(DEPTH_KEY));
  return DEPTHS.includes(saved) ? saved : null;
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
