"""Login throttling: failed logins counted per client address and per login name, with back-off.

Three tables of failures, each bounded (at most ``max_entries`` rows, the oldest evicted first) and
forgetting a row ``forget_seconds`` after its last failure:

- **per address**: every failed login from the address, whatever the login name. After
  ``address_free`` failures the address waits ``first_delay`` (1 s), then twice as long after each
  further failure, 2 s, 4 s … (at most ``max_delay``) before its next try. Varying the login name does
  not help.
- **per login**: failures of the login name from all addresses. After ``login_free`` of them the name is
  locked with the same back-off, **but only for addresses that have failed on this name themselves**
  (third table). The real user, coming from an address that has not failed, still logs in with the
  right password; an attacker cannot keep them out by failing on purpose.
- **per (address, login)**: which address failed on which name lately (forgotten after ``max_delay``, and
  at once when that address logs in with that name).

A refused try (429) checks no password and counts nothing. At most ``concurrent_per_address`` checks of
the same address run at once, so a burst of parallel requests cannot slip past the counts while the
password hashes are being verified. Times are ``time.monotonic()`` seconds, passed in by the caller.
Used from the event loop only (no locking).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")


@dataclass(slots=True)
class _Failures:
    count: int
    last: float


class FailureTable(Generic[K]):
    """Failures per key: oldest last failure first, at most ``max_entries`` rows, rows forgotten after
    ``forget_seconds`` without a new failure."""

    def __init__(self, max_entries: int, forget_seconds: float) -> None:
        self.max_entries = max_entries
        self.forget_seconds = forget_seconds
        self._rows: OrderedDict[K, _Failures] = OrderedDict()

    def __len__(self) -> int:
        return len(self._rows)

    def _purge(self, now: float) -> None:
        rows = self._rows
        while rows:
            first = next(iter(rows.values()))
            if now - first.last <= self.forget_seconds:
                break
            rows.popitem(last=False)

    def get(self, key: K, now: float) -> _Failures | None:
        """The key's failures, or ``None`` (never failed, or forgotten)."""
        self._purge(now)
        return self._rows.get(key)

    def add(self, key: K, now: float) -> int:
        """Count one failure; returns the key's count. Evicts the oldest rows beyond ``max_entries``."""
        self._purge(now)
        row = self._rows.pop(key, None) or _Failures(0, now)
        row.count += 1
        row.last = now
        self._rows[key] = row                       # moved to the end: rows stay ordered by last failure
        while len(self._rows) > self.max_entries:
            self._rows.popitem(last=False)
        return row.count

    def discard(self, key: K) -> None:
        """Forget the key's failures."""
        self._rows.pop(key, None)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a login try is refused, and how many seconds to wait (``Retry-After``)."""

    seconds: int
    scope: str          # "address" | "login" | "busy"


def backoff(count: int, free: int, first_delay: float, max_delay: float) -> float:
    """Seconds to wait after ``count`` failures: none below ``free``, then ``first_delay`` doubling with
    each further failure, at most ``max_delay``."""
    if count < free:
        return 0.0
    return float(min(first_delay * 2.0 ** min(count - free, 62), max_delay))


class LoginThrottle:
    """Counts failed logins per address and per login name; see the module doc for the rules."""

    def __init__(self, *, address_free: int = 10, login_free: int = 5, first_delay: float = 1.0,
                 max_delay: float = 900.0, forget_seconds: float = 3600.0, max_entries: int = 10_000,
                 concurrent_per_address: int = 2) -> None:
        self.address_free = address_free
        self.login_free = login_free
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.concurrent_per_address = concurrent_per_address
        self.addresses: FailureTable[str] = FailureTable(max_entries, forget_seconds)
        self.logins: FailureTable[str] = FailureTable(max_entries, forget_seconds)
        self.pairs: FailureTable[tuple[str, str]] = FailureTable(max_entries, max_delay)
        self._running: dict[str, int] = {}

    def _wait(self, row: _Failures | None, free: int, now: float) -> int:
        if row is None:
            return 0
        left = row.last + backoff(row.count, free, self.first_delay, self.max_delay) - now
        return math.ceil(left) if left > 0 else 0

    def check(self, address: str, login: str, now: float) -> Refusal | None:
        """``None`` when the try may go ahead, else the refusal (nothing is counted)."""
        if self._running.get(address, 0) >= self.concurrent_per_address:
            return Refusal(1, "busy")
        wait = self._wait(self.addresses.get(address, now), self.address_free, now)
        if wait:
            return Refusal(wait, "address")
        if self.pairs.get((address, login), now) is not None:     # this address failed on this name
            wait = self._wait(self.logins.get(login, now), self.login_free, now)
            if wait:
                return Refusal(wait, "login")
        return None

    def begin(self, address: str, login: str, now: float) -> Refusal | None:
        """:meth:`check`, and when allowed mark a check of ``address`` as running (end it with :meth:`end`)."""
        refusal = self.check(address, login, now)
        if refusal is None:
            self._running[address] = self._running.get(address, 0) + 1
        return refusal

    def end(self, address: str, login: str, ok: bool, now: float) -> None:
        """The try begun with :meth:`begin` is over: count a failure, or forget this address's failures on
        this name (its address count stays: a right password of one's own does not buy more guesses)."""
        left = self._running.get(address, 0) - 1
        if left > 0:
            self._running[address] = left
        else:
            self._running.pop(address, None)
        if ok:
            self.pairs.discard((address, login))
            return
        self.addresses.add(address, now)
        self.logins.add(login, now)
        self.pairs.add((address, login), now)

    def sizes(self) -> dict[str, int]:
        """Rows per table (bounded by ``max_entries`` each)."""
        return {"addresses": len(self.addresses), "logins": len(self.logins), "pairs": len(self.pairs),
                "running": len(self._running)}
