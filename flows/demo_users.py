"""The demo's users for the review page: one login per role with a fresh random password each demo.

``kasse demo`` writes ``<out>/demo_users.toml`` (argon2 hashes, the users file ``kasse review --users``
reads) and prints the logins with their passwords once, so the review page works on the demo without
writing a users file by hand. The passwords are also kept in ``<out>/demo_logins.txt`` (mode 0600).
Demo users are for a look on this machine only: ``kasse review`` refuses a users file in a demo folder
unless it listens on a loopback address (:func:`loopback_only`).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

USERS_FILE = "demo_users.toml"
LOGINS_FILE = "demo_logins.txt"

#: login, name, role (the supervisor "aufsicht" is also the one who releases the demo's dunning week)
DEMO_USERS = (("sachbearbeitung", "Sachbearbeitung (Demo)", "clerk"),
              ("aufsicht", "Aufsicht (Demo)", "supervisor"),
              ("pruefung", "Prüfung (Demo)", "auditor"))


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One demo user as printed: login, role, the password in clear."""

    login: str
    role: str
    password: str


def write_demo_users(out: Path, tenant: str) -> list[DemoLogin]:
    """Write the users file and the logins file into the demo folder ``out``; return the logins."""
    from review.users import hash_password

    logins = [DemoLogin(login, role, secrets.token_urlsafe(12)) for login, _, role in DEMO_USERS]
    lines = ["# made by kasse demo: loopback only (kasse review refuses another address for this file)", ""]
    for (login, name, role), who in zip(DEMO_USERS, logins, strict=True):
        lines += [f"[users.{login}]", f"name = {json.dumps(name, ensure_ascii=False)}", f'role = "{role}"',
                  f"tenants = {json.dumps([tenant])}", f'password_hash = "{hash_password(who.password)}"', ""]
    _write_private(out / USERS_FILE, "\n".join(lines))
    _write_private(out / LOGINS_FILE, "".join(f"{w.login}\t{w.role}\t{w.password}\n" for w in logins))
    return logins


def _write_private(path: Path, text: str) -> None:
    """Readable by the owner only (the file holds password hashes or passwords)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)


def is_demo_users_file(path: Path) -> bool:
    """A users file that ``kasse demo`` wrote (it lies in a folder the demo marked as its own)."""
    from flows.cmd_demo import MARKER

    return (path.resolve().parent / MARKER).is_file()


def loopback_only(host: str) -> bool:
    """Whether ``host`` is a loopback address (or ``localhost``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
