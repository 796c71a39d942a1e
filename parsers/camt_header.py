"""The head of one camt statement (``Stmt`` / ``Rpt`` / ``Ntfctn``): account, numbers, balances, period.

The head is small (it comes before the entries), so it is read from the element with plain tree walks,
matching on local names only, which makes it independent of the message version's namespace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from claims.vocab import StatementKind
from parsers.camt_values import cents_or_none, date_or_none
from parsers.ids import statement_key
from parsers.issues import ERROR, WARNING, Issue, shown

KINDS = {"Stmt": StatementKind.STATEMENT, "Rpt": StatementKind.REPORT, "Ntfctn": StatementKind.NOTIFICATION}
#: Opening balance codes in order of preference: opening booked, then previously closed booked.
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODES = ("CLBD",)


def local(el: Any) -> str:
    """Local name of an element (``{urn:…camt.053.001.02}Ntry`` -> ``Ntry``); '' for comments."""
    tag = el.tag
    return tag[tag.rfind("}") + 1 :] if isinstance(tag, str) else ""


def child(el: Any, *names: str) -> Any:
    """The first descendant along the path of local ``names`` (``child(bal, "Tp", "CdOrPrtry")``)."""
    for name in names:
        if el is None:
            return None
        el = next((c for c in el if local(c) == name), None)
    return el


def text(el: Any, *names: str) -> str | None:
    """Stripped text at the path, or ``None`` when absent or empty."""
    node = child(el, *names) if names else el
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


@dataclass(slots=True)
class Balance:
    """One ``Bal`` we use (opening or closing), signed cents."""

    code: str
    cents: int | None
    currency: str | None
    on: date | None


@dataclass(slots=True)
class StatementHead:
    """What the statement says about itself; ``n_entries`` is filled in while streaming."""

    index: int
    xpath: str
    kind: str
    source_format: str
    statement_id: str | None = None
    statement_no: str | None = None
    sequence_no: int | None = None
    page_no: int | None = None
    account: str | None = None
    currency: str | None = None
    opening: Balance | None = None
    closing: Balance | None = None
    from_date: date | None = None
    to_date: date | None = None
    n_entries: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def opening_date(self) -> date | None:
        return self.opening.on if self.opening and self.opening.on else self.from_date

    @property
    def closing_date(self) -> date | None:
        return self.closing.on if self.closing and self.closing.on else self.to_date

    @property
    def key(self) -> str:
        """:func:`parsers.ids.statement_key` of this statement."""
        return statement_key(
            self.account,
            self.statement_no,
            self.opening_date,
            self.opening.cents if self.opening else None,
            self.closing_date,
            self.closing.cents if self.closing else None,
        )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _balance(bal: Any, xpath: str, source: str, issues: list[Issue]) -> tuple[str, Balance] | None:
    code = text(bal, "Tp", "CdOrPrtry", "Cd") or text(bal, "Tp", "CdOrPrtry", "Prtry") or ""
    if code not in OPENING_CODES + CLOSING_CODES:
        return None
    amount = child(bal, "Amt")
    raw_amount = amount.text if amount is not None else None
    cents, problem = cents_or_none(raw_amount)
    if problem:
        issues.append(Issue(source, f"{xpath}/Amt", ERROR, f"camt.balance_{problem}",
                            f"{code} balance amount: expected a decimal in whole cents, got {shown(raw_amount)}"))
    indicator = text(bal, "CdtDbtInd")
    if cents is not None and indicator == "DBIT":
        cents = -cents
    elif cents is not None and indicator != "CRDT":
        issues.append(Issue(source, f"{xpath}/CdtDbtInd", WARNING, "camt.balance_sign",
                            f"{code} balance: expected CdtDbtInd CRDT or DBIT, got {shown(indicator)}; taken as CRDT"))
    when = text(bal, "Dt", "Dt") or text(bal, "Dt", "DtTm") or text(bal, "Dt")
    on = date_or_none(when)
    if on is None:
        issues.append(Issue(source, f"{xpath}/Dt", WARNING, "camt.balance_date",
                            f"{code} balance: expected Dt or DtTm with an ISO date, got {shown(when)}"))
    currency = amount.get("Ccy") if amount is not None else None
    return code, Balance(code, cents, currency, on)


def read_head(stmt: Any, *, index: int, xpath: str, source_format: str, message: Any, source: str) -> StatementHead:
    """Read the head of the statement element ``stmt`` (its children before the first ``Ntry``)."""
    issues: list[Issue] = []
    head = StatementHead(index=index, xpath=xpath, kind=KINDS.get(local(stmt), StatementKind.STATEMENT),
                         source_format=source_format, issues=issues)
    head.statement_id = text(stmt, "Id")
    seq = text(stmt, "ElctrncSeqNb")
    legal = text(stmt, "LglSeqNb")
    head.statement_no = seq or legal or head.statement_id
    head.sequence_no = _int_or_none(seq or legal)
    if head.statement_id is None:
        issues.append(Issue(source, f"{xpath}/Id", WARNING, "camt.missing_id", "statement has no Id"))
    own_page = next((text(c, "PgNb") for c in stmt if local(c).endswith("Pgntn")), None)
    head.page_no = _int_or_none(own_page or text(message, "GrpHdr", "MsgPgntn", "PgNb"))
    # v02+: IBAN or Othr/Id; v01 also PrtryAcct/Id and BBAN
    head.account = (text(stmt, "Acct", "Id", "IBAN") or text(stmt, "Acct", "Id", "Othr", "Id")
                    or text(stmt, "Acct", "Id", "PrtryAcct", "Id") or text(stmt, "Acct", "Id", "BBAN"))
    if head.account is None:
        issues.append(Issue(source, f"{xpath}/Acct/Id", ERROR, "camt.missing_account",
                            "expected Acct/Id/IBAN or Acct/Id/Othr/Id, found neither"))
    head.currency = text(stmt, "Acct", "Ccy")
    frto = child(stmt, "FrToDt")
    if frto is not None:
        head.from_date = date_or_none(text(frto, "FrDtTm") or text(frto, "FrDt"))
        head.to_date = date_or_none(text(frto, "ToDtTm") or text(frto, "ToDt"))
    found: dict[str, Balance] = {}
    position = 0
    for node in stmt:
        if local(node) != "Bal":
            continue
        position += 1
        got = _balance(node, f"{xpath}/Bal[{position}]", source, issues)
        if got is not None and got[0] not in found:
            found[got[0]] = got[1]
    head.opening = next((found[c] for c in OPENING_CODES if c in found), None)
    head.closing = next((found[c] for c in CLOSING_CODES if c in found), None)
    if head.currency is None:
        head.currency = next((b.currency for b in (head.opening, head.closing) if b and b.currency), None)
    return head
