// Cumulative depth chart on a canvas: bids step down to the left of the mid price, asks to the
// right; the cursor shows the price and the quantity available up to it.

import { themeColor, decimals } from "./dom.js";

const PAD = { left: 8, right: 8, top: 20, bottom: 22 };

export class DepthChart {
  constructor(canvas) {
    this.canvas = canvas;
    this.book = { bids: [], asks: [] };
    this.pointer = null;
    this.frame = 0;
    new ResizeObserver(() => this.schedule()).observe(canvas);
    document.addEventListener("themechange", () => this.schedule());
    canvas.addEventListener("pointermove", (e) => { this.pointer = e.offsetX; this.schedule(); });
    canvas.addEventListener("pointerleave", () => { this.pointer = null; this.schedule(); });
  }

  /** `bids` best first, `asks` best first, as [[price, qty], …] strings. */
  update(book) {
    this.book = book;
    this.schedule();
  }

  // At most one drawing per animation frame, however fast the deltas come.
  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.draw(); });
  }

  draw() {
    const { canvas } = this;
    const ratio = devicePixelRatio || 1;
    const width = canvas.clientWidth, height = canvas.clientHeight;
    if (!width || !height) return;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.font = "11px system-ui, sans-serif";
    const colors = { bid: themeColor("--up"), ask: themeColor("--down"), muted: themeColor("--muted"), grid: themeColor("--border"), text: themeColor("--text") };

    const bids = cumulative(this.book.bids), asks = cumulative(this.book.asks);
    if (!bids.length || !asks.length) {
      ctx.fillStyle = colors.muted;
      ctx.fillText("waiting for the book…", PAD.left, height / 2);
      return;
    }
    const mid = (bids[0].price + asks[0].price) / 2;
    const reach = Math.max(mid - bids.at(-1).price, asks.at(-1).price - mid) || 1;
    const top = Math.max(bids.at(-1).total, asks.at(-1).total) * 1.08;
    const plot = { x: PAD.left, y: PAD.top, w: width - PAD.left - PAD.right, h: height - PAD.top - PAD.bottom };
    const scale = {
      x: (price) => plot.x + ((price - (mid - reach)) / (2 * reach)) * plot.w,
      y: (qty) => plot.y + plot.h - (qty / top) * plot.h,
      price: (x) => mid - reach + ((x - plot.x) / plot.w) * 2 * reach,
    };

    grid(ctx, plot, colors.grid);
    area(ctx, bids, scale, plot, colors.bid, -1);
    area(ctx, asks, scale, plot, colors.ask, +1);
    const places = Math.max(decimals(this.book.bids[0][0]), decimals(this.book.asks[0][0]));
    labels(ctx, { plot, mid, reach, top, places, colors, width });
    if (this.pointer !== null) cursor(ctx, { x: this.pointer, bids, asks, scale, plot, places, colors, mid });
  }
}

function cumulative(levels) {
  let total = 0;
  return levels.map(([price, qty]) => ({ price: Number(price), total: (total += Number(qty)) }));
}

function grid(ctx, plot, color) {
  ctx.strokeStyle = color;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (let i = 0; i <= 4; i++) {
    const y = Math.round(plot.y + (plot.h * i) / 4) + 0.5;
    ctx.moveTo(plot.x, y);
    ctx.lineTo(plot.x + plot.w, y);
  }
  const center = Math.round(plot.x + plot.w / 2) + 0.5;
  ctx.moveTo(center, plot.y);
  ctx.lineTo(center, plot.y + plot.h);
  ctx.stroke();
}

// A step line from the best price outwards (direction −1: left for bids), filled below.
function area(ctx, points, scale, plot, color, direction) {
  const base = plot.y + plot.h;
  ctx.beginPath();
  ctx.moveTo(scale.x(points[0].price), base);
  let y = base;
  for (const point of points) {
    const x = scale.x(point.price);
    ctx.lineTo(x, y);
    y = scale.y(point.total);
    ctx.lineTo(x, y);
  }
  ctx.lineTo(direction < 0 ? plot.x : plot.x + plot.w, y);
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.5;
  ctx.stroke();
  ctx.lineTo(direction < 0 ? plot.x : plot.x + plot.w, base);
  ctx.closePath();
  ctx.globalAlpha = 0.18;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
}

function labels(ctx, { plot, mid, reach, top, places, colors, width }) {
  ctx.fillStyle = colors.muted;
  ctx.textBaseline = "alphabetic";
  const bottom = plot.y + plot.h + 15;
  ctx.textAlign = "left";
  ctx.fillText((mid - reach).toFixed(places), plot.x, bottom);
  ctx.textAlign = "right";
  ctx.fillText((mid + reach).toFixed(places), plot.x + plot.w, bottom);
  ctx.textAlign = "center";
  ctx.fillStyle = colors.text;
  ctx.fillText(`mid ${mid.toFixed(places + 1)}`, plot.x + plot.w / 2, bottom);
  ctx.fillStyle = colors.muted;
  ctx.textAlign = "left";
  ctx.fillText(`Σ qty ${top.toFixed(2)}`, plot.x, plot.y - 6);
  ctx.textAlign = "right";
  ctx.fillText("cumulative depth", width - PAD.right, plot.y - 6);
}

function cursor(ctx, { x, bids, asks, scale, plot, places, colors, mid }) {
  if (x < plot.x || x > plot.x + plot.w) return;
  const price = scale.price(x);
  const side = price < mid ? bids.filter((p) => p.price >= price) : asks.filter((p) => p.price <= price);
  const total = side.length ? side.at(-1).total : 0;
  ctx.strokeStyle = colors.text;
  ctx.setLineDash([3, 3]);
  ctx.beginPath();
  ctx.moveTo(Math.round(x) + 0.5, plot.y);
  ctx.lineTo(Math.round(x) + 0.5, plot.y + plot.h);
  ctx.stroke();
  ctx.setLineDash([]);
  const text = `${price.toFixed(places)} · ${total.toFixed(4)}`;
  ctx.textAlign = x > plot.x + plot.w / 2 ? "right" : "left";
  ctx.fillStyle = colors.text;
  ctx.fillText(text, x + (ctx.textAlign === "left" ? 6 : -6), plot.y + 12);
}
