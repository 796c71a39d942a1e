"""Server-side sessions: a login is live only while its row is in ``<state_dir>/review/sessions.sqlite3``.

The signed cookie carries a random session id (32 bytes); the store keeps only its SHA-256, the login,
a tag of the user's password hash, and the times. Logout deletes the row, so a cookie copied before
logout is refused afterwards; an expired row is refused and deleted. A row whose password tag no longer
fits the users file (password changed) is refused too. The store survives a restart of the page.

Each call opens its own short SQLite connection (about 40 µs): no connection is shared between
threads, and two processes over the same folder would agree. A lookup is one indexed SELECT; writes
happen only at login and logout.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: sessions kept per login; the oldest beyond this are ended at the next login
MAX_PER_LOGIN = 50

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id_sha256    TEXT PRIMARY KEY,
    login        TEXT NOT NULL,
    password_tag TEXT NOT NULL,
    created_at   REAL NOT NULL,
    expires_at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at);
CREATE INDEX IF NOT EXISTS sessions_login ON sessions (login, created_at);
"""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def password_tag(password_hash: str) -> str:
    """What the store keeps of the user's password hash: enough to notice it changed, nothing to crack."""
    return _digest("review-session:" + password_hash)[:32]


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A row of the store."""

    login: str
    password_tag: str
    expires_at: float


class SessionStore:
    """The live sessions of the review page, in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._ready = False

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> SessionStore:
        """The store of a state folder: ``<state_dir>/review/sessions.sqlite3``."""
        return cls(Path(state_dir) / "review" / "sessions.sqlite3")

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        try:
            if not self._ready:
                db.executescript(_SCHEMA)
                self._ready = True
            yield db
        except sqlite3.OperationalError:
            self._ready = False             # e.g. the folder was removed meanwhile: make it again next time
            raise
        finally:
            db.close()

    def create(self, login: str, password_hash: str, seconds: int, now: float) -> str:
        """A new live session for ``login``; returns its id (for the cookie). Also ends expired sessions
        and the login's oldest beyond :data:`MAX_PER_LOGIN`, so the file stays small."""
        session_id = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM sessions WHERE expires_at <= ?", (now,))
                db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?)",
                           (_digest(session_id), login, password_tag(password_hash), now, now + seconds))
                db.execute("DELETE FROM sessions WHERE login = ? AND id_sha256 NOT IN (SELECT id_sha256 FROM "
                           "sessions WHERE login = ? ORDER BY created_at DESC LIMIT ?)",
                           (login, login, MAX_PER_LOGIN))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return session_id

    def lookup(self, session_id: str, now: float) -> LiveSession | None:
        """The live session of this id, or ``None`` (never made, ended by logout, or expired)."""
        with self._db() as db:
            row = db.execute("SELECT login, password_tag, expires_at FROM sessions WHERE id_sha256 = ?",
                             (_digest(session_id),)).fetchone()
        if row is None:
            return None
        if row[2] <= now:
            self.end(session_id)
            return None
        return LiveSession(str(row[0]), str(row[1]), float(row[2]))

    def end(self, session_id: str) -> None:
        """End the session (logout); unknown ids are ignored."""
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE id_sha256 = ?", (_digest(session_id),))

    def count(self) -> int:
        """Rows in the store (expired ones not yet deleted included)."""
        with self._db() as db:
            return int(db.execute("SELECT count(*) FROM sessions").fetchone()[0])
