"""Rate limits per channel: a global token bucket, and a minimum gap between messages to one address."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass
class TokenBucket:
    """`rate` tokens a second, at most `burst` saved up."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(init=False)
    now: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = self.now()

    def wait_time(self) -> float:
        """Seconds until a token is free (0: one is free now)."""
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self._refill()
        self.tokens -= 1

    def _refill(self) -> None:
        moment = self.now()
        self.tokens = min(self.burst, self.tokens + (moment - self.updated) * self.rate)
        self.updated = moment


class Limits:
    """Shared by all of one dispatcher's sends; `reserve` answers how long to wait, or takes a slot."""

    def __init__(
        self,
        per_second: Mapping[str, float],
        per_address_gap: float,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.buckets = {name: TokenBucket(rate, max(1.0, rate), now) for name, rate in per_second.items()}
        self.gap = per_address_gap
        self.now = now
        self.last: dict[tuple[str, str], float] = {}

    def reserve(self, channel: str, address: str) -> float:
        """0 and the slot is yours; otherwise the seconds to wait before asking again."""
        moment = self.now()
        previous = self.last.get((channel, address))
        if previous is not None and moment - previous < self.gap:
            return self.gap - (moment - previous)
        bucket = self.buckets[channel]
        wait = bucket.wait_time()
        if wait > 0:
            return wait
        bucket.take()
        self.last[(channel, address)] = moment
        if len(self.last) > 50_000:
            self._forget_before(moment - self.gap)
        return 0.0

    def _forget_before(self, moment: float) -> None:
        self.last = {key: at for key, at in self.last.items() if at > moment}
