// A local order book rebuilt from /market depth messages: a snapshot, then deltas whose
// prevSeq must be the seq we hold. Every message's checksum is checked against our own book,
// so the page can say honestly whether what it draws is what the gateway has.

import { crc32 } from "./crc32.js";

/** The depths a subscriber may ask for (docs/market-data.md); null is the whole book. */
export const DEPTHS = [10, 50, 200, 1000];
const FULL_BOOK_CHECKSUM_LEVELS = 10; // without "depth": the top 10 levels per side

export class OrderBook {
  /** depth: null for the whole book, else the N of a `"depth": N` subscription. */
  constructor(symbol, depth = null) {
    this.symbol = symbol;
    this.depth = depth;
    this.bids = new Map(); // price text → qty text, exactly as the feed gave them
    this.asks = new Map();
    this.seq = null;
    this.checksumOk = null; // null until the first message
    this.verified = 0;      // messages whose checksum matched
  }

  /**
   * Applies a market.depth payload. Returns "ok", "stale" (an old delta, ignored), "gap"
   * (does not chain: resubscribe) or "mismatch" (our checksum differs: resubscribe).
   */
  apply(message) {
    if (message.type === "snapshot") {
      this.bids = levels(message.bids);
      this.asks = levels(message.asks);
    } else {
      if (this.seq === null) return "gap";
      if (message.prevSeq !== this.seq) return message.seq <= this.seq ? "stale" : "gap";
      update(this.bids, message.bids);
      update(this.asks, message.asks);
    }
    this.seq = message.seq;
    this.checksumOk = this.checksum() === message.checksum;
    if (!this.checksumOk) return "mismatch";
    this.verified++;
    return "ok";
  }

  /** Bids best (highest) first, asks best (lowest) first: [[price, qty], …]. */
  sorted(limit = Infinity) {
    const bids = [...this.bids].sort((a, b) => Number(b[0]) - Number(a[0])).slice(0, limit);
    const asks = [...this.asks].sort((a, b) => Number(a[0]) - Number(b[0])).slice(0, limit);
    return { bids, asks };
  }

  // The whole book: the top 10 levels. At depth N: every level held (N per side, or fewer
  // when the book is shallower), so a level that should have left the top N shows as a mismatch.
  checksum() {
    const { bids, asks } = this.sorted(this.depth === null ? FULL_BOOK_CHECKSUM_LEVELS : Infinity);
    return checksumOf(bids, asks);
  }
}

/** CRC32 of "bidPrice:bidQty:askPrice:askQty:" level by level (best first); a side that ran
 *  out adds nothing. `levels` limits the levels per side (default: all given). */
export function checksumOf(bids, asks, levels = Infinity) {
  const count = Math.min(levels, Math.max(bids.length, asks.length));
  let text = "";
  for (let i = 0; i < count; i++) {
    if (bids[i]) text += `${bids[i][0]}:${bids[i][1]}:`;
    if (asks[i]) text += `${asks[i][0]}:${asks[i][1]}:`;
  }
  return crc32(text);
}

function levels(list) {
  return new Map(list.filter(([, qty]) => Number(qty) !== 0));
}

// A quantity of 0 removes the level.
function update(side, changes) {
  for (const [price, qty] of changes) {
    if (Number(qty) === 0) side.delete(price);
    else side.set(price, qty);
  }
}
