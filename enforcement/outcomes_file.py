"""The outcomes file: what the enforcement office reports back per case or claim (format version 1,
docs/ENFORCEMENT.md "The files"). :func:`read_outcomes` validates and returns frames; :func:`write_outcomes`
is the office's side (a Stadtkasse tenant that runs enforcement for another, issue 17 §4; tests; demo).

**Frames** (amounts in integer cents). ``outcomes``: ``office_reference`` (the office's own file number),
``case_number`` (ours, from the hand-off), ``sequence`` (1, 2, … per office reference and case: the n-th
report on it), ``outcome`` (``claims.vocab.EnforcementOutcome``), ``outcome_date``, ``collected_cents``
(required); ``kassenzeichen`` (the claim, when the outcome is for one claim and not the whole case),
``instalment_cents``, ``instalment_first_due``, ``instalment_count`` (an instalment agreement),
``new_street``, ``new_postcode``, ``new_city``, ``new_country`` (debtor moved), ``note``. ``fees``: the
enforcement office's fees and outlays (§§ 10 ff. VO VwVG NRW) as items: ``office_reference``,
``case_number``, ``sequence`` (the outcome they belong to), ``kind`` (a code such as ``pfaendung``),
``basis`` (the legal basis in words), ``description``, ``amount_cents``.

**Idempotency.** Each outcome has a stable id, :func:`outcome_id`: the office's id, its reference, our
case number and the sequence (``VS-DT|2026/0815|V-2026-000001|1``). The same outcome read from the same
file or from a file sent again gets the same id, so an import that books it twice can refuse the second
(the ledger side). ``digest`` (SHA-256 of the outcome's canonical XML) tells a resent identical outcome
from a changed one under the same id.

**Errors.** The root or header broken, the counts not matching, the file addressed to another tenant:
:class:`~enforcement.file_format.EnforcementFileError` for the whole file. One outcome broken (schema, an
id repeated in the file, ``paid`` without money, ``instalments`` without the agreement): a ``rejected``
row (file, line, element, case number, outcome id, reason) and the rest is read:
``count_in == outcomes.height + rejected.height``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
from lxml import etree

from claims.vocab import EnforcementOutcome
from enforcement.file_format import (
    NAMESPACE,
    OUTCOMES,
    EnforcementFileError,
    Party,
    amount_el,
    cents,
    check_counts,
    check_input,
    check_sum,
    close_tag,
    created_text,
    date_el,
    day,
    document,
    el,
    euros,
    header_line,
    open_tag,
    opt,
    reject_row,
    rejected_frame,
    screen,
    text,
    validate_written,
)

S, D, I64 = pl.String(), pl.Date(), pl.Int64()
OUTCOME_COLUMNS: dict[str, pl.DataType] = {
    "office_reference": S, "case_number": S, "sequence": I64, "outcome": S, "outcome_date": D,
    "collected_cents": I64}
OUTCOME_OPTIONAL: dict[str, pl.DataType] = {
    "kassenzeichen": S, "instalment_cents": I64, "instalment_first_due": D, "instalment_count": I64,
    "new_street": S, "new_postcode": S, "new_city": S, "new_country": S, "note": S}
FEE_COLUMNS: dict[str, pl.DataType] = {
    "office_reference": S, "case_number": S, "sequence": I64, "kind": S, "amount_cents": I64}
FEE_OPTIONAL: dict[str, pl.DataType] = {"basis": S, "description": S}
#: What :func:`read_outcomes` adds to the outcome columns: the id, where it came from, the fee sum.
READ_COLUMNS: dict[str, pl.DataType] = {
    "outcome_id": S, "file": S, "message_id": S, "office_id": S, "line": I64, "fees_cents": I64, "digest": S}
_KEY = ("office_reference", "case_number", "sequence")
_NS = f"{{{NAMESPACE}}}"


@dataclass(frozen=True)
class OutcomesHeader:
    """The header of an outcomes file: ``office_id`` names the enforcement office (part of every outcome
    id); ``sender`` is the office, ``receiver`` the creditor (``receiver.tenant``: its tenant id)."""

    message_id: str
    created: datetime
    office_id: str
    sender: Party
    receiver: Party


@dataclass(frozen=True)
class OutcomesRead:
    header: OutcomesHeader
    outcomes: pl.DataFrame
    fees: pl.DataFrame
    rejected: pl.DataFrame
    count_in: int


def outcome_id(office_id: str, office_reference: str, case_number: str, sequence: int) -> str:
    """The stable id of one outcome (the schema forbids ``|`` and white space in its parts).

    >>> outcome_id("VS-DT", "2026/0815", "V-2026-000001", 1)
    'VS-DT|2026/0815|V-2026-000001|1'
    """
    return f"{office_id}|{office_reference}|{case_number}|{sequence}"


def write_outcomes(header: OutcomesHeader, outcomes: pl.DataFrame, fees: pl.DataFrame, *,
                   file: str = "outcomes.xml") -> bytes:
    """The outcomes file (the office's side): one ``Outcome`` per row, its fee items, header counts and
    control sums; validated against the schema before it is returned."""
    outcomes = check_input(outcomes, "outcomes", OUTCOME_COLUMNS, OUTCOME_OPTIONAL,
                           amounts=("collected_cents", "instalment_cents"))
    fees = check_input(fees, "fees", FEE_COLUMNS, FEE_OPTIONAL, amounts=("amount_cents",))
    if outcomes.is_empty():
        raise EnforcementFileError("outcomes: an outcomes file needs at least one outcome", file=file)
    unknown = set(outcomes["outcome"].unique().to_list()) - set(EnforcementOutcome)
    if unknown:
        raise EnforcementFileError(f"outcomes: unknown outcome code(s) {sorted(unknown)}", file=file)
    orphans = fees.join(outcomes, on=list(_KEY), how="anti")
    if orphans.height:
        raise EnforcementFileError(f"fees: no outcome for {orphans.select(_KEY).head(3).rows()}", file=file)
    c = pl.col
    fee_xml = pl.concat_str([
        open_tag("Fee", 2), el("Kind", c("kind"), 3), opt("Basis", c("basis"), 3),
        opt("Description", c("description"), 3), amount_el("Amount", c("amount_cents"), 3), close_tag("Fee", 2)])
    per_outcome = fees.select(*_KEY, fee_xml.alias("fees_xml")).group_by(_KEY, maintain_order=True).agg(
        c("fees_xml").str.join(""))
    rows = outcomes.join(per_outcome, on=list(_KEY), how="left", maintain_order="left")
    instalments = pl.concat_str([
        open_tag("Instalments", 2), amount_el("Amount", c("instalment_cents"), 3),
        date_el("FirstDue", c("instalment_first_due"), 3), opt("Count", c("instalment_count"), 3),
        close_tag("Instalments", 2)]).fill_null("")
    address = pl.concat_str([
        open_tag("NewAddress", 2), el("Street", c("new_street"), 3), el("Postcode", c("new_postcode"), 3),
        el("City", c("new_city"), 3), el("Country", c("new_country").fill_null("DE"), 3),
        close_tag("NewAddress", 2)]).fill_null("")
    outcome_xml = pl.concat_str([
        open_tag("Outcome", 1), el("OfficeReference", c("office_reference"), 2), el("CaseNumber", c("case_number"), 2),
        el("Sequence", c("sequence"), 2), opt("Kassenzeichen", c("kassenzeichen"), 2), el("Code", c("outcome"), 2),
        date_el("Date", c("outcome_date"), 2), amount_el("Collected", c("collected_cents"), 2),
        c("fees_xml").fill_null(""), instalments, address, opt("Note", c("note"), 2), close_tag("Outcome", 1)])
    head = ("  <Header>\n" + header_line("MessageId", header.message_id)
            + header_line("Created", created_text(header.created)) + header_line("OfficeId", header.office_id)
            + header.sender.xml("Sender", 2) + header.receiver.xml("Receiver", 2)
            + "    <Counts>\n" + header_line("Outcomes", outcomes.height, 3) + header_line("Fees", fees.height, 3)
            + "    </Counts>\n    <ControlSums>\n"
            + header_line("Collected", euros(int(outcomes["collected_cents"].sum())), 3)
            + header_line("Fees", euros(int(fees["amount_cents"].sum())), 3) + "    </ControlSums>\n  </Header>\n")
    data = document(OUTCOMES, head, rows.select(outcome_xml)[:, 0])
    validate_written(data, file=file, item="Outcome")
    return data


def _problems(o: etree._Element, code: str | None, collected: int) -> list[tuple[int, str, str]]:
    """What the schema cannot say about one outcome."""
    line = o.sourceline or 0
    out = []
    if code in (EnforcementOutcome.PAID, EnforcementOutcome.PARTLY_PAID) and collected <= 0:
        out.append((line, "Collected", f"outcome {code} with nothing collected"))
    if code == EnforcementOutcome.INSTALMENTS and o.find(f"{_NS}Instalments") is None:
        out.append((line, "Instalments", "outcome instalments without the agreement (Instalments)"))
    return out


def read_outcomes(source: bytes | Path, *, file: str | None = None, tenant: str | None = None) -> OutcomesRead:
    """Read an outcomes file into frames (module docstring). ``tenant``: ours; a file whose receiver names
    another tenant is refused as a whole. The header's counts must match the file; its control sums are
    checked when no outcome was rejected (a rejected outcome's amounts may be what is broken)."""
    sc = screen(source, kind=OUTCOMES, item="Outcome", file=file)
    h = sc.header
    receiver, sender = h.find(f"{_NS}Receiver"), h.find(f"{_NS}Sender")
    assert receiver is not None and sender is not None
    header = OutcomesHeader(message_id=text(h, "MessageId") or "",
                            created=datetime.fromisoformat(text(h, "Created") or ""),
                            office_id=text(h, "OfficeId") or "", sender=Party.from_xml(sender),
                            receiver=Party.from_xml(receiver))
    if tenant is not None and header.receiver.tenant not in (None, tenant):
        raise EnforcementFileError(f"addressed to tenant {header.receiver.tenant!r}, not {tenant!r}", file=sc.file,
                                   element="Header/Receiver/Tenant", line=receiver.sourceline or 0)
    rows: list[dict[str, object]] = []
    fee_rows: list[dict[str, object]] = []
    rejected = list(sc.rejected)
    seen: set[str] = set()
    for o in sc.items:
        ref, number, seq = text(o, "OfficeReference") or "", text(o, "CaseNumber") or "", int(text(o, "Sequence") or 0)
        oid = outcome_id(header.office_id, ref, number, seq)
        code, collected = text(o, "Code"), cents(text(o, "Collected")) or 0
        problems = _problems(o, code, collected)
        if oid in seen:
            problems.insert(0, (o.sourceline or 0, "Outcome", f"outcome id {oid} repeated in this file"))
        if problems:
            rejected.append(reject_row(sc.file, o, problems, oid))
            continue
        seen.add(oid)
        fees: list[dict[str, object]] = [{"office_reference": ref, "case_number": number, "sequence": seq, "kind": text(f, "Kind"),
                 "amount_cents": cents(text(f, "Amount")), "basis": text(f, "Basis"),
                 "description": text(f, "Description")} for f in o.iterfind(f"{_NS}Fee")]
        fee_rows.extend(fees)
        inst, moved = o.find(f"{_NS}Instalments"), o.find(f"{_NS}NewAddress")
        rows.append({
            "outcome_id": oid, "file": sc.file, "message_id": header.message_id, "office_id": header.office_id,
            "line": o.sourceline,
            "fees_cents": sum(cents(f.findtext(f"{_NS}Amount")) or 0 for f in o.iterfind(f"{_NS}Fee")),
            "digest": hashlib.sha256(etree.tostring(o, method="c14n")).hexdigest(),
            "office_reference": ref, "case_number": number, "sequence": seq, "outcome": code,
            "outcome_date": day(text(o, "Date")), "collected_cents": collected,
            "kassenzeichen": text(o, "Kassenzeichen"), "instalment_cents": cents(text(inst, "Amount")),
            "instalment_first_due": day(text(inst, "FirstDue")),
            "instalment_count": int(n) if (n := text(inst, "Count")) else None,
            "new_street": text(moved, "Street"), "new_postcode": text(moved, "Postcode"),
            "new_city": text(moved, "City"), "new_country": text(moved, "Country"), "note": text(o, "Note")})
    check_counts(sc, int(h.findtext(f"{_NS}Counts/{_NS}Outcomes") or 0), "Outcomes")
    outcomes = pl.DataFrame(rows, schema={**READ_COLUMNS, **OUTCOME_COLUMNS, **OUTCOME_OPTIONAL}, orient="row")
    fees_frame = pl.DataFrame(fee_rows, schema={**FEE_COLUMNS, **FEE_OPTIONAL}, orient="row").select(
        pl.concat_str([pl.lit(header.office_id), *[pl.col(k).cast(pl.String) for k in _KEY]],
                      separator="|").alias("outcome_id"),
        pl.all())
    if not rejected:
        fee_count = int(h.findtext(f"{_NS}Counts/{_NS}Fees") or 0)
        if fee_count != fees_frame.height:
            raise EnforcementFileError(f"the header counts {fee_count} Fee elements, the file holds "
                                       f"{fees_frame.height}", file=sc.file, element="Header/Counts/Fees")
        check_sum(sc, "Collected", cents(h.findtext(f"{_NS}ControlSums/{_NS}Collected")) or 0,
                  int(outcomes["collected_cents"].sum()))
        check_sum(sc, "Fees", cents(h.findtext(f"{_NS}ControlSums/{_NS}Fees")) or 0,
                  int(fees_frame["amount_cents"].sum()))
    return OutcomesRead(header, outcomes, fees_frame, rejected_frame(rejected), sc.count_in)
