"""Learned matching rules as journal lines: proposed, approved, expired and revoked on the review page.

The review page never opens the ledger, so a rule's life is written like a clerk decision: one JSON line
per step, appended (fsynced) under ``<state_dir>/journal/<tenant>/rules/`` by :mod:`ledger.journal`'s
writer, never rewritten. The nightly run folds the lines into each rule's state, applies the rules in
force and books every change of state into the ledger table ``match_rules`` (append-only events).

Line kinds (``kind``):

* ``rule_proposal`` — a user (clerk or supervisor) adopts a proposal the run computed from the clerks'
  decisions (:func:`matching.learned.propose_rules`): ``rule_id``, ``rule_kind``, ``key``, ``target``,
  ``evidence_count`` and ``evidence_users`` (the clerks whose decisions are its evidence);
* ``rule_approval`` — a supervisor puts it in force until ``valid_until``;
* ``rule_expiry`` — a supervisor ends it earlier: a new ``valid_until``, never later than the old one;
* ``rule_revocation`` — a supervisor (or the proposer, while it is only proposed) takes it back for good,
  with a ``reason``.

**Four-eyes.** The approver has the role supervisor and is neither the proposer nor one of the clerks
whose decisions are the rule's evidence: a rule books money without anyone looking, so the person who
lets it do so must not be checking their own work. The page refuses such an approval (403), the writer
here refuses it (:class:`~ledger.journal.JournalError`), and the reader ignores a forged line and reports
it (``journal.rule_approval_refused``).

>>> from pathlib import Path; import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> r = propose_rule(d, "t1", key="DE02120300000000202051", target="D7", evidence_count=3,
...                  evidence_users=("anna",), user="ben", role="clerk")
>>> _ = approve_rule(d, "t1", r.rule_id, user="sven", role="supervisor", valid_until=date(2027, 1, 1))
>>> [(x.target, str(x.state_on(date(2026, 12, 7)))) for x in read_rules(d, "t1")]
[('D7', 'approved')]
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from claims.vocab import RuleKind, RuleState
from ledger.journal import APPROVER_ROLES, JournalError, _append, journal_dir, read_lines
from matching.learned import RULE_SCHEMA
from parsers.issues import WARNING, Issue
from parsers.validity import compact_iban

KINDS = ("rule_proposal", "rule_approval", "rule_expiry", "rule_revocation")
SUB = "rules"
#: Roles that may adopt a proposal (auditors read only).
PROPOSER_ROLES = frozenset({"clerk", "supervisor"})


@dataclass(frozen=True, slots=True)
class LearnedRule:
    """A learned rule as the journal's lines made it (see :meth:`state_on` for its state on a day)."""

    rule_id: str
    tenant: str
    kind: str
    key: str
    target: str
    evidence_count: int
    evidence_users: tuple[str, ...]
    proposed_by: str
    proposed_at: str
    note: str = ""
    approved_by: str | None = None
    approved_at: str | None = None
    valid_until: date | None = None
    revoked_by: str | None = None
    revoked_at: str | None = None
    reason: str | None = None
    expired_by: str | None = None
    proposed_valid_until: date | None = None  # the validity the run proposed ([matching] learned_rule_valid_days)

    def state_on(self, day: date) -> RuleState:
        """revoked, else expired (approved, ``valid_until`` before ``day``), approved, or proposed."""
        if self.revoked_by:
            return RuleState.REVOKED
        if self.approved_by:
            if self.valid_until is not None and self.valid_until < day:
                return RuleState.EXPIRED
            return RuleState.APPROVED
        return RuleState.PROPOSED


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _entry(kind: str, tenant: str, rule_id: str, user: str, role: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "tenant": tenant, "rule_id": rule_id, "user": user, "role": role, "created_at": _now(), **more}


def _write(state_dir: Path, tenant: str, entry: dict[str, Any]) -> None:
    _append(state_dir, tenant, entry, sub=SUB)


def check_approval(rule: LearnedRule, user: str, role: str) -> None:
    """Raise :class:`JournalError` unless ``user`` (``role``) may approve ``rule`` (four-eyes, see above)."""
    if role not in APPROVER_ROLES:
        raise JournalError(f"role {role!r} may not approve a rule; approvals need a supervisor")
    if user == rule.proposed_by:
        raise JournalError(f"{user} proposed rule {rule.rule_id} and may not approve it (four-eyes)")
    if user in rule.evidence_users:
        raise JournalError(f"{user} made decisions this rule was learned from and may not approve it (four-eyes)")
    if rule.approved_by or rule.revoked_by:
        raise JournalError(f"rule {rule.rule_id} is not waiting for approval")


def check_revocation(rule: LearnedRule, user: str, role: str, reason: str) -> None:
    """Raise :class:`JournalError` unless ``user`` may revoke ``rule`` now (with a reason)."""
    if rule.revoked_by:
        raise JournalError(f"rule {rule.rule_id} is revoked already")
    if role not in APPROVER_ROLES and not (user == rule.proposed_by and not rule.approved_by):
        raise JournalError(f"only a supervisor may revoke rule {rule.rule_id} (its proposer only before approval)")
    if not reason.strip():
        raise JournalError("revoking a rule needs a reason")


def check_expiry(rule: LearnedRule, role: str, valid_until: date) -> None:
    """Raise :class:`JournalError` unless a supervisor may end ``rule`` on ``valid_until``."""
    if role not in APPROVER_ROLES:
        raise JournalError("only a supervisor may end a rule")
    if not rule.approved_by or rule.revoked_by:
        raise JournalError(f"rule {rule.rule_id} is not in force")
    if rule.valid_until is not None and valid_until > rule.valid_until:
        raise JournalError(f"a rule is ended earlier, never extended: it runs until {rule.valid_until:%d.%m.%Y}")


def _find(state_dir: Path, tenant: str, rule_id: str) -> LearnedRule:
    for r in read_rules(state_dir, tenant):
        if r.rule_id == rule_id:
            return r
    raise JournalError(f"rule {rule_id} not found in tenant {tenant}'s journal")


def propose_rule(state_dir: Path, tenant: str, *, key: str, target: str, evidence_count: int,
                 evidence_users: tuple[str, ...] | list[str], user: str, role: str, note: str = "",
                 kind: str = RuleKind.IBAN_TO_DEBTOR, valid_until: date | None = None) -> LearnedRule:
    """Append a ``rule_proposal`` (refused when a proposed or approved rule has the same kind and key);
    ``valid_until``: the validity proposed to the approver (who may shorten it)."""
    if role not in PROPOSER_ROLES:
        raise JournalError(f"role {role!r} may not propose rules")
    if kind not in tuple(RuleKind):
        raise JournalError(f"rule kind must be one of {', '.join(RuleKind)}, got {kind!r}")
    key = "".join(key.split()).upper()
    if not key or not target:
        raise JournalError("a rule needs a key (the payer IBAN) and a target (the debtor)")
    today = datetime.now(UTC).date()
    for r in read_rules(state_dir, tenant):
        if r.kind == kind and r.key == key and r.state_on(today) in (RuleState.PROPOSED, RuleState.APPROVED):
            raise JournalError(f"rule {r.rule_id} for {key} is {r.state_on(today)} already")
    entry = _entry("rule_proposal", tenant, str(uuid.uuid4()), user, role, rule_kind=kind, key=key, target=target,
                   evidence_count=int(evidence_count), evidence_users=sorted(set(evidence_users)), note=note,
                   valid_until=valid_until.isoformat() if valid_until else None)
    _write(state_dir, tenant, entry)
    return _rule_from(entry)


def approve_rule(state_dir: Path, tenant: str, rule_id: str, *, user: str, role: str, valid_until: date) -> LearnedRule:
    """Append a ``rule_approval``: the rule is in force until ``valid_until`` (inclusive)."""
    rule = _find(state_dir, tenant, rule_id)
    check_approval(rule, user, role)
    entry = _entry("rule_approval", tenant, rule_id, user, role, valid_until=valid_until.isoformat())
    _write(state_dir, tenant, entry)
    return replace(rule, approved_by=user, approved_at=entry["created_at"], valid_until=valid_until)


def expire_rule(state_dir: Path, tenant: str, rule_id: str, *, user: str, role: str, valid_until: date) -> LearnedRule:
    """Append a ``rule_expiry``: the rule ends after ``valid_until`` (never later than it would have)."""
    rule = _find(state_dir, tenant, rule_id)
    check_expiry(rule, role, valid_until)
    entry = _entry("rule_expiry", tenant, rule_id, user, role, valid_until=valid_until.isoformat())
    _write(state_dir, tenant, entry)
    return replace(rule, valid_until=valid_until, expired_by=user)


def revoke_rule(state_dir: Path, tenant: str, rule_id: str, *, user: str, role: str, reason: str) -> LearnedRule:
    """Append a ``rule_revocation``: the rule is never applied again."""
    rule = _find(state_dir, tenant, rule_id)
    check_revocation(rule, user, role, reason)
    entry = _entry("rule_revocation", tenant, rule_id, user, role, reason=reason)
    _write(state_dir, tenant, entry)
    return replace(rule, revoked_by=user, revoked_at=entry["created_at"], reason=reason)


def _rule_from(e: dict[str, Any]) -> LearnedRule:
    return LearnedRule(
        rule_id=str(e["rule_id"]), tenant=str(e["tenant"]), kind=str(e["rule_kind"]), key=str(e["key"]),
        target=str(e["target"]), evidence_count=int(e["evidence_count"]),
        evidence_users=tuple(str(u) for u in e.get("evidence_users") or ()), proposed_by=str(e["user"]),
        proposed_at=str(e["created_at"]), note=str(e.get("note") or ""),
        proposed_valid_until=date.fromisoformat(str(e["valid_until"])) if e.get("valid_until") else None,
    )


def load_rules(state_dir: Path, tenant: str) -> tuple[list[LearnedRule], list[Issue]]:
    """Every rule of a tenant as its lines made it, plus findings on lines that are bad or refused."""
    folder = journal_dir(state_dir, tenant) / SUB
    entries, issues = read_lines(folder, KINDS, "rule entry")
    rules: dict[str, LearnedRule] = {}
    for _, where, e in entries:
        kind = str(e["kind"])
        try:
            if kind == "rule_proposal":
                r = _rule_from(e)
                if r.rule_id in rules:
                    raise JournalError(f"rule {r.rule_id} proposed twice")
                day = datetime.fromisoformat(r.proposed_at).date()
                live = [x.rule_id for x in rules.values() if (x.kind, x.key) == (r.kind, r.key)
                        and x.state_on(day) in (RuleState.PROPOSED, RuleState.APPROVED)]
                if live:  # (two pages proposing at the same moment: the first line counts)
                    raise JournalError(f"rule {live[0]} for {r.key} was live when {r.rule_id} was proposed")
                rules[r.rule_id] = r
                continue
            rule = rules.get(str(e.get("rule_id")))
            if rule is None:
                raise JournalError(f"{kind} refers to unknown rule {e.get('rule_id')}")
            user, role = str(e.get("user") or ""), str(e.get("role") or "")
            if kind == "rule_approval":
                check_approval(rule, user, role)
                rules[rule.rule_id] = replace(rule, approved_by=user, approved_at=str(e["created_at"]),
                                              valid_until=date.fromisoformat(str(e["valid_until"])))
            elif kind == "rule_expiry":
                until = date.fromisoformat(str(e["valid_until"]))
                check_expiry(rule, role, until)
                rules[rule.rule_id] = replace(rule, valid_until=until, expired_by=user)
            else:
                check_revocation(rule, user, role, str(e.get("reason") or ""))
                rules[rule.rule_id] = replace(rule, revoked_by=user, revoked_at=str(e["created_at"]),
                                              reason=str(e["reason"]))
        except (JournalError, KeyError, TypeError, ValueError) as exc:
            issues.append(Issue(str(folder), where, WARNING, f"journal.{kind}_refused", str(exc),
                                json.dumps(e, ensure_ascii=False)[:500]))
    return list(rules.values()), issues


def read_rules(state_dir: Path, tenant: str) -> list[LearnedRule]:
    """Every rule of a tenant (use :meth:`LearnedRule.state_on` for its state on a day)."""
    return load_rules(state_dir, tenant)[0]


#: The rules as a frame: the ledger's ``match_rules`` columns without tenant, run_id and as_of.
RULE_STATE_SCHEMA: dict[str, pl.DataType] = {
    "rule_id": pl.String(),
    "kind": pl.String(),
    "key": pl.String(),
    "target": pl.String(),
    "evidence_count": pl.Int64(),
    "evidence_users": pl.String(),        # comma-separated
    "proposed_by": pl.String(),
    "proposed_at": pl.String(),
    "approved_by": pl.String(),
    "approved_at": pl.String(),
    "valid_until": pl.Date(),
    "revoked_by": pl.String(),
    "revoked_at": pl.String(),
    "reason": pl.String(),
    "state": pl.String(),                 # RuleState on the run's booking date
}


def rules_frame(rules: list[LearnedRule], day: date) -> pl.DataFrame:
    """The rules with their state on ``day`` (:data:`RULE_STATE_SCHEMA`)."""
    rows = [{"rule_id": r.rule_id, "kind": r.kind, "key": r.key, "target": r.target,
             "evidence_count": r.evidence_count, "evidence_users": ",".join(r.evidence_users),
             "proposed_by": r.proposed_by, "proposed_at": r.proposed_at, "approved_by": r.approved_by,
             "approved_at": r.approved_at, "valid_until": r.valid_until, "revoked_by": r.revoked_by,
             "revoked_at": r.revoked_at, "reason": r.reason, "state": str(r.state_on(day))} for r in rules]
    return pl.DataFrame(rows, schema=RULE_STATE_SCHEMA).sort("proposed_at", "rule_id")


def in_force(frame: pl.DataFrame) -> pl.DataFrame:
    """The approved rules of :func:`rules_frame` as the matcher takes them (:data:`matching.learned.RULE_SCHEMA`)."""
    return frame.filter(pl.col("state") == RuleState.APPROVED).select(
        "rule_id", "kind", compact_iban(pl.col("key")).alias("key"), "target").select(list(RULE_SCHEMA))
