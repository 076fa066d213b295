"""A sliding-window limit on requests per key (a link, an address), kept in this process's memory.

Several processes each keep their own (issue 14 moves the fleet's limits into PostgreSQL).
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

MAX_KEYS = 50_000  # past this, keys with nothing inside the window are dropped


@dataclass
class Throttle:
    """At most `limit` requests per `per` for each key."""

    limit: int
    per: timedelta
    _seen: dict[str, deque[datetime]] = field(default_factory=dict)

    def allow(self, key: str, now: datetime) -> bool:
        """Count a request for `key` at `now`; False (and not counted) when over the limit."""
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.per:
            times.popleft()
        if len(times) >= self.limit:
            return False
        times.append(now)
        if len(self._seen) > MAX_KEYS:
            self._seen = {k: t for k, t in self._seen.items() if t and t[-1] > now - self.per}
        return True
