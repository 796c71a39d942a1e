"""Soft locks: "Bert has this payment open" — a visible mark, never a refusal.

Opening a payment's detail page marks it for :data:`LOCK_SECONDS` (10 minutes, renewed on every view); the
list and the detail page show another clerk's mark. Nothing is refused because of it: two clerks may still
decide (the journal's rules — one live decision per payment, four-eyes — are what protects the money), the
mark only saves them from doing the same work twice. A decision on the payment ends its author's mark.

Stored beside the sessions in ``<state_dir>/review/locks.sqlite3`` (the page never writes the ledger or the
published state); each call opens its own short SQLite connection, as :mod:`review.sessions` does.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: how long a mark lasts after the last view of the payment
LOCK_SECONDS = 600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS locks (
    tenant         TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    login          TEXT NOT NULL,
    name           TEXT NOT NULL,
    since          REAL NOT NULL,
    expires_at     REAL NOT NULL,
    PRIMARY KEY (tenant, transaction_id, login)
);
CREATE INDEX IF NOT EXISTS locks_expires ON locks (expires_at);
"""


@dataclass(frozen=True, slots=True)
class Lock:
    """Another clerk's mark on a payment."""

    login: str
    name: str
    since: float                           # epoch seconds of the first view
    expires_at: float


class LockStore:
    """The soft locks of the review page, in one SQLite file (created on first use)."""

    def __init__(self, path: Path, seconds: int = LOCK_SECONDS) -> None:
        self.path = Path(path)
        self.seconds = seconds
        self._ready = False

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> LockStore:
        """The store of a state folder: ``<state_dir>/review/locks.sqlite3``."""
        return cls(Path(state_dir) / "review" / "locks.sqlite3")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        try:
            db.execute("PRAGMA synchronous = OFF")     # a mark lost in a crash is harmless; no fsync per view
            if not self._ready:
                db.executescript(_SCHEMA)
                self._ready = True
            yield db
        except sqlite3.OperationalError:
            self._ready = False
            raise
        finally:
            db.close()

    def touch(self, tenant: str, transaction_id: str, login: str, name: str, now: float | None = None) -> None:
        """``login`` has the payment open: mark it (or renew the mark) until now + :attr:`seconds`."""
        now = time.time() if now is None else now
        with self._db() as db:
            db.execute("DELETE FROM locks WHERE expires_at <= ?", (now,))
            db.execute("INSERT INTO locks VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant, transaction_id, login) "
                       "DO UPDATE SET expires_at = excluded.expires_at, name = excluded.name",
                       (tenant, transaction_id, login, name, now, now + self.seconds))

    def release(self, tenant: str, transaction_id: str, login: str) -> None:
        """End ``login``'s mark on the payment (after a decision)."""
        with self._db() as db:
            db.execute("DELETE FROM locks WHERE tenant = ? AND transaction_id = ? AND login = ?",
                       (tenant, transaction_id, login))

    def held_by_others(self, tenant: str, transaction_ids: Sequence[str], login: str,
                       now: float | None = None) -> dict[str, Lock]:
        """transaction_id -> the newest live mark of another user, for the given payments (a page's rows)."""
        if not transaction_ids:
            return {}
        now = time.time() if now is None else now
        out: dict[str, Lock] = {}
        ids = list(dict.fromkeys(transaction_ids))
        with self._db() as db:
            for start in range(0, len(ids), 500):               # SQLite's bound-parameter limit
                part = ids[start:start + 500]
                marks = ",".join("?" * len(part))
                rows = db.execute(
                    f"SELECT transaction_id, login, name, since, expires_at FROM locks WHERE tenant = ? "
                    f"AND login <> ? AND expires_at > ? AND transaction_id IN ({marks}) ORDER BY since",
                    (tenant, login, now, *part)).fetchall()
                for tx, who, name, since, expires in rows:
                    out[str(tx)] = Lock(str(who), str(name), float(since), float(expires))
        return out
