"""Plain parts of the review page: amounts as clerks type them, users file, settings, list queries, CLI."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import polars as pl
import pytest
from review_data import PASSWORD, klaerungsliste, write_users

from claims.errors import ConfigError
from flows.cli import main
from review.amounts import AmountError, format_cents, parse_amount
from review.config import review_config_from
from review.listing import filter_items, page_of, parse_list_query
from review.sessions import MAX_PER_LOGIN, SessionStore
from review.state import _with_search_columns
from review.throttle import LoginThrottle, backoff
from review.users import UsersFileError, authenticate, hash_password, load_users, parse_users


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1.234,56", 123456), ("1234,56", 123456), ("1234.56", 123456), ("1,234.56", 123456),
        ("12", 1200), ("0,5", 50), ("0.05", 5), ("1.234", 123400), ("1.234.567,89", 123456789),
        (" 150,00 € ", 15000), ("99,99 EUR", 9999), ("-5,00", -500), ("1\u00a0234,56", 123456),
    ],
)
def test_amounts_as_typed(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize("text", ["", "abc", "1,2,3", "12,345", "1.23.45", "1,234,5", "12.345,6.7", "1e3", "--5"])
def test_amounts_never_guessed(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_format_cents() -> None:
    assert [format_cents(c) for c in (0, 5, 123456, -100, 123456789, None)] == [
        "0,00", "0,05", "1.234,56", "-1,00", "1.234.567,89", ""]


def test_users_file(tmp_path: Path) -> None:
    users = load_users(write_users(tmp_path / "users.toml"))
    assert users["otto"].role == "auditor" and not users["otto"].may_decide
    assert users["sven"].may_approve and not users["anna"].may_approve
    assert authenticate(users, "anna", PASSWORD) is users["anna"]
    assert authenticate(users, "anna", "wrong") is None
    assert authenticate({"x": users["anna"]}, "x", PASSWORD) is not None
    h = hash_password("lang-genug")
    assert h.startswith("$argon2id$")
    with pytest.raises(UsersFileError, match="role must be one of"):
        parse_users({"users": {"a": {"role": "admin", "tenants": ["t"], "password_hash": h}}})
    with pytest.raises(UsersFileError, match="tenants"):
        parse_users({"users": {"a": {"role": "clerk", "tenants": [], "password_hash": h}}})
    with pytest.raises(UsersFileError, match="argon2"):
        parse_users({"users": {"a": {"role": "clerk", "tenants": ["t"], "password_hash": "plain"}}})
    (tmp_path / "bad.toml").write_text("[users\n")
    with pytest.raises(UsersFileError, match=r"bad\.toml"):
        load_users(tmp_path / "bad.toml")


def test_review_settings(tmp_path: Path) -> None:
    cfg = review_config_from({"paths": {"state_dir": "st"}, "review": {"four_eyes_above": "1.000,00"}}, tmp_path)
    assert cfg.state_dir == tmp_path / "st" and cfg.four_eyes_above_cents == 100000
    assert cfg.requires_approval(100001) and not cfg.requires_approval(100000)
    assert review_config_from({"review": {"four_eyes_above": 250}}, tmp_path).four_eyes_above_cents == 25000
    default = review_config_from({}, tmp_path)
    assert default.four_eyes_above_cents == 0 and default.requires_approval(1) and not default.requires_approval(0)
    assert default.state_dir == tmp_path / "state"          # beside the ledger, as the nightly run reads it
    with pytest.raises(ConfigError, match="four_eyes_above"):
        review_config_from({"review": {"four_eyes_above": "viel"}}, tmp_path)
    (tmp_path / "short.secret").write_text("abc")
    with pytest.raises(ConfigError, match="at least 16"):
        review_config_from({"review": {"secret_file": "short.secret"}}, tmp_path)


def test_trusted_proxies_setting(tmp_path: Path) -> None:
    assert review_config_from({}, tmp_path).trusted_proxies == ()           # X-Forwarded-For ignored
    cfg = review_config_from({"review": {"trusted_proxies": ["127.0.0.1", "10.0.0.0/8"]}}, tmp_path)
    assert cfg.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    for bad in (["*"], "127.0.0.1", ["proxy.local"]):
        with pytest.raises(ConfigError, match="trusted_proxies"):
            review_config_from({"review": {"trusted_proxies": bad}}, tmp_path)


# --- login throttle ---------------------------------------------------------------------------------------

def fail(t: LoginThrottle, address: str, login: str, now: float) -> None:
    assert t.begin(address, login, now) is None
    t.end(address, login, False, now)


def test_backoff_doubles_up_to_the_cap() -> None:
    assert [backoff(n, 3, 1.0, 10.0) for n in range(2, 9)] == [0.0, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert backoff(10**6, 3, 1.0, 900.0) == 900.0                           # no overflow


def test_throttle_per_address_and_per_login() -> None:
    t = LoginThrottle(address_free=4, login_free=2)
    fail(t, "A", "x", 0.0)
    fail(t, "A", "anna", 0.0)
    fail(t, "A", "anna", 0.0)
    # anna is locked now, but only for the address that failed on her
    refusal = t.check("A", "anna", 0.5)
    assert refusal is not None and refusal.scope == "login" and refusal.seconds == 1
    assert t.check("B", "anna", 0.5) is None
    assert t.check("A", "bert", 0.5) is None                                # 3 of 4 free failures used
    assert t.check("A", "anna", 1.1) is None                                # back-off over
    fail(t, "A", "y", 1.1)
    refusal = t.check("A", "bert", 1.2)
    assert refusal is not None and refusal.scope == "address"
    fail(t, "A", "z", 2.5)                                                  # after 1 s: the next costs 2 s
    assert t.check("A", "bert", 4.0) is not None and t.check("A", "bert", 4.6) is None
    # a right password forgets the address's failures on that name, not its count
    assert t.begin("A", "anna", 5.0) is None
    t.end("A", "anna", True, 5.0)
    row = t.addresses.get("A", 5.0)
    assert row is not None and row.count == 5
    fail(t, "C", "anna", 6.0)                                               # anna locked again by C …
    assert t.check("C", "anna", 6.1) is not None
    assert t.check("A", "anna", 6.1) is None                                # … A's failures on her are forgotten


def test_throttle_allows_few_parallel_checks_per_address() -> None:
    t = LoginThrottle(concurrent_per_address=2)
    assert t.begin("A", "anna", 0.0) is None and t.begin("A", "bert", 0.0) is None
    refusal = t.begin("A", "otto", 0.0)
    assert refusal is not None and refusal.scope == "busy"
    assert t.begin("B", "otto", 0.0) is None
    t.end("A", "anna", True, 0.1)
    assert t.begin("A", "otto", 0.1) is None
    for address, login in (("A", "bert"), ("A", "otto"), ("B", "otto")):
        t.end(address, login, True, 0.2)
    assert t.sizes()["running"] == 0


def test_throttle_tables_stay_bounded() -> None:
    t = LoginThrottle(max_entries=50, forget_seconds=60.0, max_delay=30.0)
    for i in range(2000):                        # many addresses, each trying new names
        fail(t, f"10.0.{i // 256}.{i % 256}", f"user{i}", i / 100)
    sizes = t.sizes()
    assert sizes["addresses"] == sizes["logins"] == sizes["pairs"] == 50 and sizes["running"] == 0
    assert t.addresses.get("10.0.7.207", 20.0) is not None                  # the newest are kept
    assert t.addresses.get("10.0.0.0", 20.0) is None                        # the oldest were evicted
    t.check("A", "anna", 1000.0)                                             # an hour of quiet later …
    assert t.addresses.get("x", 1000.0) is None and t.logins.get("x", 1000.0) is None
    assert t.pairs.get(("x", "y"), 1000.0) is None
    assert t.sizes() == {"addresses": 0, "logins": 0, "pairs": 0, "running": 0}   # … all forgotten


# --- session store ----------------------------------------------------------------------------------------

def test_session_store_ends_expires_and_stays_small(tmp_path: Path) -> None:
    store = SessionStore.in_state_dir(tmp_path / "state")
    a = store.create("anna", "$argon2id$a", 60, now=1000.0)
    b = store.create("bert", "$argon2id$b", 60, now=1000.0)
    assert (tmp_path / "state" / "review" / "sessions.sqlite3").is_file()
    live = store.lookup(a, 1059.0)
    assert live is not None and live.login == "anna" and live.expires_at == 1060.0
    assert store.lookup(a + "x", 1000.0) is None and store.lookup("", 1000.0) is None
    store.end(a)
    assert store.lookup(a, 1001.0) is None
    assert store.lookup(b, 1060.0) is None and store.count() == 0            # expired: refused and deleted
    assert a not in (tmp_path / "state" / "review" / "sessions.sqlite3").read_bytes().decode("latin1")
    for _ in range(MAX_PER_LOGIN + 5):
        store.create("anna", "$argon2id$a", 60, now=2000.0)
    assert store.count() == MAX_PER_LOGIN
    store.create("otto", "$argon2id$o", 60, now=3000.0)                       # the expired rows go
    assert store.count() == 1
    assert SessionStore.in_state_dir(tmp_path / "state").count() == 1        # it survives a restart


def test_list_query_ignores_garbage_and_pages_clamp() -> None:
    q = parse_list_query({"sort": "drop table", "page": "-3", "age_min": "x", "status": "nope", "q": "  a  "})
    assert (q.sort, q.page, q.age_min, q.status, q.q, q.amount_cents) == ("age", 1, None, "", "a", None)
    items = _with_search_columns(klaerungsliste())
    rows = filter_items(items, parse_list_query({"sort": "amount", "dir": "asc"}))
    assert rows["unallocated_cents"].to_list() == sorted(rows["unallocated_cents"].to_list())
    shown, page, pages = page_of(rows, 99, 4)
    assert (page, pages, shown.height) == (2, 2, 2)
    decided = {"tx-split": "pending", "tx-big": "effective"}
    assert filter_items(items, parse_list_query({"status": "open"}), decided).height == 4
    assert filter_items(items, parse_list_query({"status": "pending"}), decided)["transaction_id"].to_list() == ["tx-split"]
    parked = items.with_columns(pl.when(pl.col("transaction_id") == "tx-big").then(pl.lit("parked"))
                                .otherwise(pl.col("state")).alias("state"))
    assert filter_items(parked, parse_list_query({"status": "parked"}))["transaction_id"].to_list() == ["tx-big"]
    # a search text with regex characters is taken literally
    assert filter_items(items, parse_list_query({"q": "KZ 4711.0000.0001"})).height == 1
    assert filter_items(items, parse_list_query({"q": ".*"})).height == 0
    assert isinstance(rows, pl.DataFrame)


def test_cli_hash_password_and_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("ein-langes-passwort\n"))
    assert main(["review", "--hash-password"]) == 0
    assert capsys.readouterr().out.startswith("$argon2id$")
    assert main(["review"]) == 2
    assert "--users FILE is required" in capsys.readouterr().err
    (tmp_path / "u.toml").write_text("[users.a]\nrole = 'boss'\ntenants = ['t']\npassword_hash = '$argon2id$x'\n")
    assert main(["review", "--users", str(tmp_path / "u.toml")]) == 2
    assert "role must be one of" in capsys.readouterr().err
