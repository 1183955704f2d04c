"""The cards simulated drivers present: valid id tags, each used at one place at a time (the CSMS answers a
card that is already charging elsewhere with ConcurrentTx), and now and then a card nobody knows."""

import random


class TokenPool:
    def __init__(self, id_tags, *, unknown_share: float = 0.1, rng: random.Random | None = None):
        self.free = list(dict.fromkeys(id_tags))
        self.in_use: set[str] = set()
        self.unknown_share = unknown_share
        self.rng = rng or random.Random()

    def acquire(self) -> str | None:
        """A card for the next driver: a free valid one, or (unknown_share of the time) an unknown one.
        None when every valid card is charging somewhere and this driver has none."""
        if not self.free or self.rng.random() < self.unknown_share:
            return self.unknown_tag() if self.unknown_share > 0 else None
        tag = self.free.pop(self.rng.randrange(len(self.free)))
        self.in_use.add(tag)
        return tag

    def release(self, id_tag: str) -> None:
        if id_tag in self.in_use:
            self.in_use.discard(id_tag)
            self.free.append(id_tag)

    def unknown_tag(self) -> str:
        """A 7-byte ISO 14443 UID (as readers send it) that no back office has issued."""
        return "04" + "".join(self.rng.choice("0123456789ABCDEF") for _ in range(12))
