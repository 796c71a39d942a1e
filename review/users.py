"""The review page's users: a TOML file with argon2 password hashes, a role and the tenants of each user.

```toml
[users.anna]
name = "Anna Schmidt"
role = "clerk"                 # clerk | supervisor | auditor (read-only) | vollstreckung (case files, read-only)
tenants = ["musterstadt"]
password_hash = "$argon2id$v=19$m=65536,t=3,p=4$..."   # kasse review --hash-password
```
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ROLES = ("clerk", "supervisor", "auditor", "vollstreckung")
#: roles that may write decisions; the auditor and the enforcement office only read
DECIDING_ROLES = frozenset({"clerk", "supervisor"})
#: roles that may read the case files (docs/DOCUMENTS.md): the enforcement office and the auditors, and the
#: treasury's clerks and supervisors, who wrote the letters in them and answer the debtors' questions
CASEFILE_ROLES = frozenset({"vollstreckung", "auditor", "clerk", "supervisor"})
#: roles that see nothing but the case files (review.auth.require_tenant)
CASEFILE_ONLY_ROLES = frozenset({"vollstreckung"})
_HASHER = PasswordHasher()


class UsersFileError(ValueError):
    """The users file cannot be used (missing fields, unknown role, not TOML)."""


@dataclass(frozen=True, slots=True)
class User:
    """One person who may log in."""

    login: str
    name: str
    role: str
    tenants: tuple[str, ...]
    password_hash: str

    @property
    def may_decide(self) -> bool:
        """Clerks and supervisors write decisions; auditors only read."""
        return self.role in DECIDING_ROLES

    @property
    def may_read_casefiles(self) -> bool:
        """Whether the user may open case files and their documents (:data:`CASEFILE_ROLES`)."""
        return self.role in CASEFILE_ROLES

    @property
    def may_approve(self) -> bool:
        """Only supervisors approve (and never their own decisions, checked per decision)."""
        return self.role == "supervisor"


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the login is unknown, so a wrong name costs as long as a wrong password."""
    return _HASHER.hash("not a password of anyone")


def hash_password(password: str) -> str:
    """An argon2id hash for the users file (what ``kasse review --hash-password`` prints)."""
    return _HASHER.hash(password)


def _user(login: str, raw: Any, where: str) -> User:
    if not isinstance(raw, dict):
        raise UsersFileError(f"{where}: [users.{login}] must be a table")
    role = raw.get("role")
    if role not in ROLES:
        raise UsersFileError(f"{where}: users.{login}.role must be one of {', '.join(ROLES)}, got {role!r}")
    tenants = raw.get("tenants")
    if not isinstance(tenants, list) or not tenants or not all(isinstance(t, str) for t in tenants):
        raise UsersFileError(f"{where}: users.{login}.tenants must be a non-empty list of tenant names")
    pw = raw.get("password_hash")
    if not isinstance(pw, str) or not pw.startswith("$argon2"):
        raise UsersFileError(f"{where}: users.{login}.password_hash must be an argon2 hash (kasse review --hash-password)")
    return User(login, str(raw.get("name") or login), role, tuple(tenants), pw)


def parse_users(data: dict[str, Any], where: str = "users") -> dict[str, User]:
    """Users from an already-parsed TOML document (``[users.<login>]`` tables)."""
    table = data.get("users")
    if not isinstance(table, dict) or not table:
        raise UsersFileError(f"{where}: expected at least one [users.<login>] table")
    return {login: _user(login, raw, where) for login, raw in table.items()}


def load_users(path: Path) -> dict[str, User]:
    """Read the users file; raises :class:`UsersFileError` with the reason when it is unusable."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsersFileError(f"{path}: {exc}") from exc
    return parse_users(data, str(path))


def authenticate(users: dict[str, User], login: str, password: str) -> User | None:
    """The user when login and password fit, else ``None`` (same work either way)."""
    user = users.get(login)
    try:
        _HASHER.verify(user.password_hash if user else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return None
    return user
