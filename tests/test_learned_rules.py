"""Learned rules in the journal (four-eyes, expiry, revocation) and through real nights into the ledger."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from nightly_files import Entry, kz, write_mt940

import jobs.nightly as night
from claims.config import TenantConfig, load_tenant_config
from ledger.db import connect, fetch
from ledger.journal import Allocation, JournalError, new_decision, record_decision
from ledger.publish import read_published
from ledger.rule_journal import (
    approve_rule,
    expire_rule,
    in_force,
    load_rules,
    propose_rule,
    read_rules,
    revoke_rule,
    rules_frame,
)

SPOUSE = "DE75512108001245126199"     # the account a debtor's spouse pays from: on file for nobody
T = "stadt"
TODAY = date(2026, 12, 7)


def _propose(d: Path, user: str = "anna", evidence: tuple[str, ...] = ("anna", "ben")) -> str:
    return propose_rule(d, T, key="de75 5121 0800 1245 1261 99", target="D-A", evidence_count=3,
                        evidence_users=evidence, user=user, role="clerk").rule_id


# --- the journal ----------------------------------------------------------------------------------------

def test_proposal_is_not_in_force_until_approved(tmp_path: Path) -> None:
    rid = _propose(tmp_path)
    (rule,) = read_rules(tmp_path, T)
    assert (rule.key, rule.target, rule.proposed_by, rule.evidence_users) == (SPOUSE, "D-A", "anna", ("anna", "ben"))
    assert rule.state_on(TODAY) == "proposed"
    assert in_force(rules_frame([rule], TODAY)).height == 0
    approve_rule(tmp_path, T, rid, user="sven", role="supervisor", valid_until=TODAY + timedelta(days=365))
    frame = rules_frame(read_rules(tmp_path, T), TODAY)
    assert frame["state"].to_list() == ["approved"]
    assert in_force(frame).rows() == [(rid, "iban_to_debtor", SPOUSE, "D-A")]


@pytest.mark.parametrize(("user", "role", "why"), [
    ("anna", "supervisor", "proposed rule .* may not approve it"),        # the proposer (even as supervisor)
    ("ben", "supervisor", "made decisions this rule was learned from"),   # a clerk of the evidence
    ("carl", "clerk", "approvals need a supervisor"),                      # not a supervisor
    ("ida", "auditor", "approvals need a supervisor"),
])
def test_four_eyes_refuses_the_approval(tmp_path: Path, user: str, role: str, why: str) -> None:
    rid = _propose(tmp_path)
    with pytest.raises(JournalError, match=why):
        approve_rule(tmp_path, T, rid, user=user, role=role, valid_until=TODAY)
    assert read_rules(tmp_path, T)[0].state_on(TODAY) == "proposed"


def test_forged_approval_line_is_ignored_and_reported(tmp_path: Path) -> None:
    rid = _propose(tmp_path)
    folder = tmp_path / "journal" / T / "rules"
    forged = {"kind": "rule_approval", "tenant": T, "rule_id": rid, "user": "ben", "role": "supervisor",
              "created_at": "2999-01-01T00:00:00+00:00", "valid_until": "2999-01-01"}
    (folder / "forged.jsonl").write_text(json.dumps(forged) + "\nnot json\n", encoding="utf-8")
    rules, issues = load_rules(tmp_path, T)
    assert rules[0].approved_by is None and rules[0].state_on(TODAY) == "proposed"
    assert sorted(i.code for i in issues) == ["journal.bad_line", "journal.rule_approval_refused"]


def test_the_same_payer_is_proposed_once(tmp_path: Path) -> None:
    _propose(tmp_path)
    with pytest.raises(JournalError, match="is proposed already"):
        _propose(tmp_path, user="carl")
    with pytest.raises(JournalError, match="may not propose"):
        propose_rule(tmp_path, T, key="DE02120300000000202051", target="D-B", evidence_count=3,
                     evidence_users=["anna"], user="ida", role="auditor")


def test_a_second_proposal_written_at_the_same_moment_is_ignored(tmp_path: Path) -> None:
    first = _propose(tmp_path)
    twin = {"kind": "rule_proposal", "tenant": T, "rule_id": "twin", "user": "carl", "role": "clerk",
            "created_at": "2999-01-01T00:00:00+00:00", "rule_kind": "iban_to_debtor", "key": SPOUSE, "target": "D-B",
            "evidence_count": 3, "evidence_users": ["carl"]}
    (tmp_path / "journal" / T / "rules" / "other-process.jsonl").write_text(json.dumps(twin) + "\n", encoding="utf-8")
    rules, issues = load_rules(tmp_path, T)
    assert [r.rule_id for r in rules] == [first]
    assert [i.code for i in issues] == ["journal.rule_proposal_refused"]


def test_expiry_ends_a_rule_and_never_extends_it(tmp_path: Path) -> None:
    rid = _propose(tmp_path)
    approve_rule(tmp_path, T, rid, user="sven", role="supervisor", valid_until=date(2027, 6, 30))
    (rule,) = read_rules(tmp_path, T)
    # valid_until is the last day in force
    assert rule.state_on(date(2027, 6, 30)) == "approved" and rule.state_on(date(2027, 7, 1)) == "expired"
    with pytest.raises(JournalError, match="never extended"):
        expire_rule(tmp_path, T, rid, user="sven", role="supervisor", valid_until=date(2028, 1, 1))
    with pytest.raises(JournalError, match="only a supervisor"):
        expire_rule(tmp_path, T, rid, user="anna", role="clerk", valid_until=TODAY)
    expire_rule(tmp_path, T, rid, user="sven", role="supervisor", valid_until=TODAY - timedelta(days=1))
    frame = rules_frame(read_rules(tmp_path, T), TODAY)
    assert frame["state"].to_list() == ["expired"] and in_force(frame).height == 0
    # an expired payer may be proposed again (new evidence, new approval)
    _propose(tmp_path, user="carl")


def test_revocation_needs_a_reason_and_the_right_person(tmp_path: Path) -> None:
    rid = _propose(tmp_path)
    with pytest.raises(JournalError, match="needs a reason"):
        revoke_rule(tmp_path, T, rid, user="sven", role="supervisor", reason="  ")
    approve_rule(tmp_path, T, rid, user="sven", role="supervisor", valid_until=date(2027, 12, 31))
    with pytest.raises(JournalError, match="only a supervisor may revoke"):   # the proposer, after approval
        revoke_rule(tmp_path, T, rid, user="anna", role="clerk", reason="falsch")
    revoke_rule(tmp_path, T, rid, user="sven", role="supervisor", reason="Konto gehört jetzt dem Sohn")
    (rule,) = read_rules(tmp_path, T)
    assert (rule.state_on(TODAY), rule.revoked_by, rule.reason) == ("revoked", "sven", "Konto gehört jetzt dem Sohn")
    with pytest.raises(JournalError, match="not in force"):
        expire_rule(tmp_path, T, rid, user="sven", role="supervisor", valid_until=TODAY)


def test_proposer_may_take_back_an_unapproved_proposal(tmp_path: Path) -> None:
    rid = _propose(tmp_path)
    revoke_rule(tmp_path, T, rid, user="anna", role="clerk", reason="vertippt")
    assert read_rules(tmp_path, T)[0].state_on(TODAY) == "revoked"


# --- through real nights into the ledger ----------------------------------------------------------------

D1, D2, D3, D4 = date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18), date(2026, 11, 19)
K = [kz(i) for i in range(8)]
#: debtor D-A (items A1..A5) and D-B (B1)
ITEMS = [("A1", K[0], "D-A", 10000), ("A2", K[1], "D-A", 5000), ("A3", K[2], "D-A", 7000), ("A4", K[3], "D-A", 3000),
         ("A5", K[4], "D-A", 2000), ("B1", K[5], "D-B", 8000)]


def _tenant(tmp_path: Path) -> TenantConfig:
    (tmp_path / "kasse.toml").write_text('[tenant]\nid = "stadt"\n', encoding="utf-8")
    cfg = load_tenant_config(tmp_path / "kasse.toml")
    rows = ["receivable_id;kassenzeichen;debtor_id;debtor_name;debtor_iban;claim_type;amount;due_date"]
    rows += [f"{r};{k};{d};Schuldner {d};;GRUNDSTEUER;{c // 100},{c % 100:02d};2026-11-01" for r, k, d, c in ITEMS]
    (cfg.inbox).mkdir(parents=True, exist_ok=True)
    (cfg.inbox / "export_1116.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return cfg


def _pay(cfg: TenantConfig, day: date, seq: int, opening: int, entries: list[Entry]) -> int:
    return write_mt940(cfg.inbox / f"bank_{day:%m%d}.sta", day=day, seq=seq, opening=opening, entries=entries)


def _assign(cfg: TenantConfig, tx: str, rid: str, cents: int, user: str) -> None:
    kz_of = {r: k for r, k, _, _ in ITEMS}
    record_decision(cfg.state_dir, new_decision(T, tx, "assign", user=user, role="clerk", amount_cents=cents,
                                                requires_approval=False,
                                                allocations=[Allocation(rid, kz_of[rid], cents)]))


def _ledger(cfg: TenantConfig, sql: str) -> pl.DataFrame:
    con = connect(cfg.ledger)
    try:
        return fetch(con, sql)
    finally:
        con.close()


def test_clerks_teach_a_rule_a_supervisor_approves_the_run_books_by_it(tmp_path: Path) -> None:
    cfg = _tenant(tmp_path)
    spouse = dict(name="Maria Beispiel", iban=SPOUSE)
    # night 1: three payments from the spouse's account, no reference: held
    bal = _pay(cfg, D1, 1, 0, [Entry(10000, "Rate", **spouse), Entry(5000, "Rate", **spouse), Entry(7000, "Rate", **spouse)])
    night.run_night(cfg, D1)
    held, _, _ = read_published(cfg.state_dir / "published", T)
    assert held["reason"].to_list() == ["no_reference"] * 3
    tx = dict(zip(held["amount_cents"].to_list(), held["transaction_id"].to_list(), strict=True))
    # the clerks assign them to D-A's items; night 2 books the decisions and proposes the rule
    _assign(cfg, tx[10000], "A1", 10000, "anna")
    _assign(cfg, tx[5000], "A2", 5000, "anna")
    _assign(cfg, tx[7000], "A3", 7000, "ben")
    bal = _pay(cfg, D2, 2, bal, [])
    night.run_night(cfg, D2)
    published = (cfg.state_dir / "published" / T).resolve()
    proposals = pl.read_parquet(published / "rule_proposals.parquet")
    assert proposals.select("kind", "key", "target", "evidence_count", "evidence_users").rows() == [
        ("iban_to_debtor", SPOUSE, "D-A", 3, "anna,ben")]
    assert pl.read_parquet(published / "rules.parquet").height == 0
    # carl adopts it, sven approves (ben made decisions of its evidence: refused)
    rid = propose_rule(cfg.state_dir, T, key=SPOUSE, target="D-A", evidence_count=3, evidence_users=["anna", "ben"],
                       user="carl", role="clerk").rule_id
    with pytest.raises(JournalError, match="four-eyes"):
        approve_rule(cfg.state_dir, T, rid, user="ben", role="supervisor", valid_until=D4)
    approve_rule(cfg.state_dir, T, rid, user="sven", role="supervisor", valid_until=D4)
    # night 3: 30,00 from the spouse (A4 is D-A's only item of 30,00) is booked by the rule; 80,00 quoting
    # D-B's Kassenzeichen from the same account is held: the rule never goes against a reference
    bal = _pay(cfg, D3, 3, bal, [Entry(3000, "Rate Dezember", **spouse), Entry(8000, f"KZ {K[5]}", **spouse)])
    report = night.run_night(cfg, D3)
    booked = _ledger(cfg, "SELECT receivable_id, amount_cents, rule, decided_by, rule_id FROM allocations "
                          "WHERE rule = 'learned_rule'")
    assert booked.rows() == [("A4", 3000, "learned_rule", "auto", rid)]
    held, _, _ = read_published(cfg.state_dir / "published", T)
    assert held.select("amount_cents", "reason").rows() == [(8000, "learned_rule_contradicted")]
    assert "B1" in held["candidates"][0]
    rules = _ledger(cfg, "SELECT rule_id, state, approved_by, proposed_by, valid_until FROM match_rules")
    assert rules.rows() == [(rid, "approved", "sven", "carl", D4)]
    summary = json.loads(_ledger(cfg, "SELECT summary FROM runs ORDER BY committed_at DESC LIMIT 1")["summary"][0])
    assert summary["learned_rules"] == {rid: {"allocations": 1, "cents": 3000}}
    assert report["match"]["n_rules_in_force"] == 1
    kf = pl.read_parquet(next((cfg.reports / T).rglob("key_figures_by_learned_rule.parquet")).as_posix())
    assert kf.select("rule_id", "n_allocations", "amount_cents").rows() == [(rid, 1, 3000)]
    html = next((cfg.reports / T / D3.isoformat()).rglob("*.html")).read_text(encoding="utf-8")
    assert "Gebucht durch gelernte Regeln" in html and rid in html
    # the proposal is gone (the rule exists)
    assert pl.read_parquet((cfg.state_dir / "published" / T).resolve() / "rule_proposals.parquet").height == 0
    # revoked: night 4's 20,00 from the spouse is held again; the ledger records the revocation
    revoke_rule(cfg.state_dir, T, rid, user="sven", role="supervisor", reason="Ehe geschieden")
    _pay(cfg, D4, 4, bal, [Entry(2000, "Rate", **spouse)])
    night.run_night(cfg, D4)
    held, _, _ = read_published(cfg.state_dir / "published", T)
    assert held.filter(pl.col("amount_cents") == 2000)["reason"].to_list() == ["no_reference"]
    states = _ledger(cfg, "SELECT m.state FROM match_rules m JOIN runs r USING (run_id) ORDER BY r.committed_at")
    assert states["state"].to_list() == ["approved", "revoked"]


def test_docstring_examples_hold() -> None:
    import doctest
    import importlib

    for name in ("matching.learned", "ledger.rule_journal"):
        result = doctest.testmod(importlib.import_module(name))
        assert result.failed == 0 and result.attempted > 0, name


def test_the_run_records_each_change_of_state_once(tmp_path: Path) -> None:
    """``match_rules`` rows: approved when first seen, nothing while unchanged, expired the day after."""
    from jobs.nightly.match import learned_rules
    from ledger.tables import MATCH_RULES

    cfg = _tenant(tmp_path)
    rid = propose_rule(cfg.state_dir, T, key=SPOUSE, target="D-A", evidence_count=3, evidence_users=["anna"],
                       user="carl", role="clerk").rule_id
    approve_rule(cfg.state_dir, T, rid, user="sven", role="supervisor", valid_until=D3)
    booked = pl.DataFrame(schema=MATCH_RULES)
    rules, changed, issues = learned_rules(cfg, D3, booked)
    assert changed.select("rule_id", "state", "valid_until").rows() == [(rid, "approved", D3)] and issues.height == 0
    assert in_force(rules)["rule_id"].to_list() == [rid]                     # valid_until is its last day
    booked = changed.with_columns(pl.lit(T).alias("tenant"), pl.lit("run-1").alias("run_id"), pl.lit(D3).alias("as_of"))
    assert learned_rules(cfg, D3, booked)[1].height == 0                     # a repeated night adds nothing
    rules, changed, _ = learned_rules(cfg, D4, booked)
    assert changed.select("rule_id", "state").rows() == [(rid, "expired")] and in_force(rules).height == 0
