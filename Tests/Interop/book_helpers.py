"""A trading UI's order book, rebuilt only from what the gateway sends (SPEC §5 checksum)."""
import zlib


def checksum(bids, asks):
    text = ""
    for i in range(10):
        if i < len(bids):
            text += f"{bids[i][0]}:{bids[i][1]}:"
        if i < len(asks):
            text += f"{asks[i][0]}:{asks[i][1]}:"
    return zlib.crc32(text.encode())


class ClientBook:
    """What a trading UI keeps: apply a snapshot, then deltas that must chain."""

    def __init__(self, snapshot):
        assert snapshot["type"] == "snapshot"
        self.seq = snapshot["seq"]
        self.bids = {p: q for p, q in snapshot["bids"]}
        self.asks = {p: q for p, q in snapshot["asks"]}
        assert self.checksum() == snapshot["checksum"]

    def apply(self, message):
        if message["type"] == "snapshot":
            self.__init__(message)
            return
        assert message["prevSeq"] == self.seq, f"delta {message['seq']} does not chain onto {self.seq}"
        for side, levels in (("bids", message["bids"]), ("asks", message["asks"])):
            book = getattr(self, side)
            for price, qty in levels:
                if float(qty) == 0:
                    book.pop(price, None)
                else:
                    book[price] = qty
        self.seq = message["seq"]
        assert self.checksum() == message["checksum"], f"checksum mismatch at seq {self.seq}"

    def checksum(self):
        bids = sorted(self.bids.items(), key=lambda kv: -float(kv[0]))
        asks = sorted(self.asks.items(), key=lambda kv: float(kv[0]))
        return checksum(bids, asks)
