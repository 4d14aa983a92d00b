"""Failed logins counted per user name and per address; too many lock the door a while."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WINDOW = 15 * 60.0
PER_USER = 5
PER_ADDRESS = 20


@dataclass
class LoginLimiter:
    """Failures within ``window`` seconds: ``per_user`` for one name, ``per_address`` from
    one address; past either, logins are refused until the oldest failure ages out."""

    window: float = WINDOW
    per_user: int = PER_USER
    per_address: int = PER_ADDRESS
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, deque[float]] = field(default_factory=dict)

    def _recent(self, key: str) -> deque[float]:
        found = self._fails.setdefault(key, deque())
        limit = self.clock() - self.window
        while found and found[0] <= limit:
            found.popleft()
        if not found:
            del self._fails[key]
            return deque()
        return found

    def blocked_for(self, user: str, address: str | None) -> float:
        """Seconds until a login of ``user`` from ``address`` may be tried (0: now)."""
        waits = [0.0]
        for key, limit in ((f"user:{user}", self.per_user),
                           (f"address:{address}", self.per_address)):
            recent = self._recent(key)
            if len(recent) >= limit:
                waits.append(recent[0] + self.window - self.clock())
        return max(waits)

    def failed(self, user: str, address: str | None, at: float | None = None) -> None:
        """Count a failed login (``at``: when, on :attr:`clock`; default now)."""
        now = self.clock() if at is None else at
        for key in (f"user:{user}", f"address:{address}"):
            self._fails.setdefault(key, deque()).append(now)

    def succeeded(self, user: str) -> None:
        """A good password clears the name's failures (not the address's)."""
        self._fails.pop(f"user:{user}", None)
