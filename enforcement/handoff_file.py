"""The hand-off file and the updates file for the enforcement office (format version 1, docs/ENFORCEMENT.md
"The files"): frames in, validated bytes out; and the readers that give the same frames back (the office's
side, and our round-trip tests).

**Hand-off input** (one row per case, one row per claim of a case; amounts in integer cents):

``cases``: ``case_number``, ``debtor_id``, ``debtor_name``, ``debtor_street``, ``debtor_postcode``,
``debtor_city`` (all text, required); ``debtor_birth_date`` (date, where known), ``debtor_country``
(ISO alpha-2, default ``DE``).

``claims``: ``case_number``, ``kassenzeichen``, ``claim_type`` (``claims.vocab.ClaimType`` value),
``notice_date`` (the Leistungsbescheid's date), ``due_date``, ``principal_cents`` (open principal),
``surcharges_cents`` (Säumniszuschläge and interest accrued to the hand-off date), ``fees_cents``
(Mahngebühr and other costs), ``schonfrist_end``, ``enforceable_since`` (dates; required);
``notice_reference`` (the notice's number), ``main_kassenzeichen`` (an ancillary claim's main claim,
§ 6 Abs. 4 VwVG NRW), ``mahnung_date`` + ``mahnung_deadline`` **or** ``mahnung_omitted`` (why no Mahnung
was needed: ``ancillary``, ``address_unknown`` …), ``statement`` (the enforceability statement; when null
it is written from the dates, :func:`statement_expr`).

**Updates input**: ``updates``: ``update_id`` (ours, unique forever), ``case_number``, ``kind``
(``claims.vocab.EnforcementUpdateKind``), ``effective_date`` (required); ``suspension_reason``
(``claims.vocab.BlockReason``, for ``suspended``), ``suspended_until``, ``note``. ``update_claims`` (for
``partial_payment``, required, and ``settled``, optional): ``update_id``, ``kassenzeichen``, ``paid_cents``,
``open_principal_cents``, ``open_surcharges_cents``, ``open_fees_cents`` (what stays open after the payment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl
from lxml import etree

from claims.vocab import BlockReason, EnforcementUpdateKind
from enforcement.file_format import (
    HANDOFF,
    NAMESPACE,
    UPDATE,
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
CASE_COLUMNS: dict[str, pl.DataType] = {
    "case_number": S, "debtor_id": S, "debtor_name": S, "debtor_street": S, "debtor_postcode": S, "debtor_city": S}
CASE_OPTIONAL: dict[str, pl.DataType] = {"debtor_birth_date": D, "debtor_country": S}
CLAIM_COLUMNS: dict[str, pl.DataType] = {
    "case_number": S, "kassenzeichen": S, "claim_type": S, "notice_date": D, "due_date": D,
    "principal_cents": I64, "surcharges_cents": I64, "fees_cents": I64, "schonfrist_end": D, "enforceable_since": D}
CLAIM_OPTIONAL: dict[str, pl.DataType] = {
    "notice_reference": S, "main_kassenzeichen": S, "mahnung_date": D, "mahnung_deadline": D, "mahnung_omitted": S,
    "statement": S}
UPDATE_COLUMNS: dict[str, pl.DataType] = {"update_id": S, "case_number": S, "kind": S, "effective_date": D}
UPDATE_OPTIONAL: dict[str, pl.DataType] = {"suspension_reason": S, "suspended_until": D, "note": S}
UPDATE_CLAIM_COLUMNS: dict[str, pl.DataType] = {
    "update_id": S, "kassenzeichen": S, "paid_cents": I64, "open_principal_cents": I64,
    "open_surcharges_cents": I64, "open_fees_cents": I64}
_CLAIM_AMOUNTS = ("principal_cents", "surcharges_cents", "fees_cents")
_OPEN_AMOUNTS = ("open_principal_cents", "open_surcharges_cents", "open_fees_cents")


@dataclass(frozen=True)
class Header:
    """The header of a hand-off or updates file. ``tenant``: the creditor tenant; ``receiver``: the
    enforcement office (``receiver.tenant`` set when it is another Stadtkasse tenant, issue 17 §4);
    ``handoff_date``: the day the surcharges are accrued to (hand-off files only)."""

    message_id: str
    created: datetime
    tenant: str
    creditor: Party
    sender: Party
    receiver: Party
    handoff_date: date | None = None


@dataclass(frozen=True)
class HandoffRead:
    """A hand-off file read back: the header, the frames as the writer takes them, the rejected cases."""

    header: Header
    cases: pl.DataFrame
    claims: pl.DataFrame
    rejected: pl.DataFrame
    count_in: int


@dataclass(frozen=True)
class UpdatesRead:
    header: Header
    updates: pl.DataFrame
    update_claims: pl.DataFrame
    rejected: pl.DataFrame
    count_in: int


def _de(col: str) -> pl.Expr:
    return pl.col(col).dt.to_string("%d.%m.%Y")


def statement_expr() -> pl.Expr:
    """The enforceability statement of a claim (§ 6 VwVG NRW) in words, from its dates: notice, due date,
    Schonfrist, Mahnung (or why none was needed), and for an ancillary claim its main claim."""
    notice = pl.format("Leistungsbescheid {}vom {}", pl.concat_str([pl.col("notice_reference"), pl.lit(" ")])
                       .fill_null(""), _de("notice_date"))
    mahnung = (pl.when(pl.col("mahnung_date").is_not_null())
               .then(pl.format("gemahnt am {} mit Frist bis {} (§ 6 Abs. 3, § 19 VwVG NRW)",
                               _de("mahnung_date"), _de("mahnung_deadline")))
               .otherwise(pl.format("Mahnung entbehrlich ({})", pl.col("mahnung_omitted"))))
    main = pl.format(" Nebenforderung zu Kassenzeichen {} (§ 6 Abs. 4 VwVG NRW).", pl.col("main_kassenzeichen"))
    return pl.concat_str([
        pl.format("{}, fällig am {}, Schonfrist (§ 6 Abs. 1 VwVG NRW) abgelaufen am {}, {}; vollstreckbar seit {}.",
                  notice, _de("due_date"), _de("schonfrist_end"), mahnung, _de("enforceable_since")),
        main.fill_null("")])


def _first(frame: pl.DataFrame, col: str, n: int = 5) -> list[object]:
    return frame[col].head(n).to_list()


def _check_handoff(cases: pl.DataFrame, claims: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    cases = check_input(cases, "cases", CASE_COLUMNS, CASE_OPTIONAL)
    claims = check_input(claims, "claims", CLAIM_COLUMNS, CLAIM_OPTIONAL, amounts=_CLAIM_AMOUNTS)
    if cases.is_empty():
        raise EnforcementFileError("cases: a hand-off file needs at least one case")
    dup = cases.filter(pl.col("case_number").is_duplicated())
    if dup.height:
        raise EnforcementFileError(f"cases: case_number repeated: {_first(dup, 'case_number')}")
    orphans = claims.join(cases, on="case_number", how="anti")
    if orphans.height:
        raise EnforcementFileError(f"claims: case_number not in cases: {_first(orphans, 'case_number')}")
    empty = cases.join(claims, on="case_number", how="anti")
    if empty.height:
        raise EnforcementFileError(f"cases without a claim: {_first(empty, 'case_number')}")
    twice = claims.filter(pl.struct("case_number", "kassenzeichen").is_duplicated())
    if twice.height:
        raise EnforcementFileError(f"claims: a Kassenzeichen twice in one case: {_first(twice, 'kassenzeichen')}")
    has_date, has_deadline = pl.col("mahnung_date").is_not_null(), pl.col("mahnung_deadline").is_not_null()
    bad = claims.filter((has_date == pl.col("mahnung_omitted").is_not_null()) | (has_date != has_deadline))
    if bad.height:
        raise EnforcementFileError("claims: each needs mahnung_date with mahnung_deadline, or mahnung_omitted "
                                   f"(not both, not neither): {_first(bad, 'kassenzeichen')}",
                                   case_number=bad["case_number"][0])
    zero = claims.group_by("case_number").agg(pl.sum_horizontal(*_CLAIM_AMOUNTS).sum().alias("t")).filter(
        pl.col("t") <= 0)
    if zero.height:
        raise EnforcementFileError(f"cases with nothing to enforce (total 0): {_first(zero, 'case_number')}")
    return (cases.with_columns(pl.col("debtor_country").fill_null("DE")),
            claims.with_columns(pl.col("statement").fill_null(statement_expr())))


def _party_block(h: Header) -> str:
    return (h.creditor.xml("Creditor", 2) + h.sender.xml("Sender", 2) + h.receiver.xml("Receiver", 2))


def write_handoff(header: Header, cases: pl.DataFrame, claims: pl.DataFrame, *,
                  file: str = "handoff.xml") -> bytes:
    """The hand-off file: one ``Case`` per row of ``cases`` (in their order) with its claims (in theirs),
    header counts and control sums; validated against the schema before it is returned."""
    if header.handoff_date is None:
        raise EnforcementFileError("a hand-off header needs handoff_date", file=file)
    cases, claims = _check_handoff(cases, claims)
    c = pl.col
    mahnung = (pl.concat_str([open_tag("Mahnung", 3), date_el("Date", c("mahnung_date"), 4),
                              date_el("Deadline", c("mahnung_deadline"), 4), close_tag("Mahnung", 3)])
               .fill_null(pl.concat_str([open_tag("MahnungOmitted", 3), el("Reason", c("mahnung_omitted"), 4),
                                         close_tag("MahnungOmitted", 3)])))
    claim_xml = pl.concat_str([
        open_tag("Claim", 2), el("Kassenzeichen", c("kassenzeichen"), 3), el("ClaimType", c("claim_type"), 3),
        opt("MainKassenzeichen", c("main_kassenzeichen"), 3),
        open_tag("Notice", 3), opt("Reference", c("notice_reference"), 4), date_el("Date", c("notice_date"), 4),
        close_tag("Notice", 3), date_el("DueDate", c("due_date"), 3), mahnung,
        amount_el("Principal", c("principal_cents"), 3), amount_el("Surcharges", c("surcharges_cents"), 3),
        amount_el("Fees", c("fees_cents"), 3),
        open_tag("Enforceability", 3), date_el("SchonfristEnd", c("schonfrist_end"), 4),
        date_el("EnforceableSince", c("enforceable_since"), 4), el("Statement", c("statement"), 4),
        close_tag("Enforceability", 3), close_tag("Claim", 2)]).alias("xml")
    per_case = (claims.with_columns(claim_xml, pl.sum_horizontal(*_CLAIM_AMOUNTS).alias("total"))
                .group_by("case_number", maintain_order=True)
                .agg(c("xml").str.join(""), c("total").sum()))
    rows = cases.join(per_case, on="case_number", how="left", maintain_order="left")
    case_xml = pl.concat_str([
        open_tag("Case", 1), el("CaseNumber", c("case_number"), 2),
        open_tag("Debtor", 2), el("DebtorId", c("debtor_id"), 3), el("Name", c("debtor_name"), 3),
        date_el("BirthDate", c("debtor_birth_date"), 3).fill_null(""),
        open_tag("Address", 3), el("Street", c("debtor_street"), 4), el("Postcode", c("debtor_postcode"), 4),
        el("City", c("debtor_city"), 4), el("Country", c("debtor_country"), 4), close_tag("Address", 3),
        close_tag("Debtor", 2), c("xml"), amount_el("CaseTotal", c("total"), 2), close_tag("Case", 1)])
    sums = {k: int(claims[k].sum()) for k in _CLAIM_AMOUNTS}
    head = ("  <Header>\n" + header_line("MessageId", header.message_id)
            + header_line("Created", created_text(header.created))
            + header_line("HandoffDate", header.handoff_date.isoformat()) + header_line("Tenant", header.tenant)
            + _party_block(header)
            + "    <Counts>\n" + header_line("Cases", cases.height, 3) + header_line("Claims", claims.height, 3)
            + "    </Counts>\n    <ControlSums>\n"
            + header_line("Principal", euros(sums["principal_cents"]), 3)
            + header_line("Surcharges", euros(sums["surcharges_cents"]), 3)
            + header_line("Fees", euros(sums["fees_cents"]), 3)
            + header_line("Total", euros(sum(sums.values())), 3) + "    </ControlSums>\n  </Header>\n")
    data = document(HANDOFF, head, rows.select(case_xml)[:, 0])
    validate_written(data, file=file, item="Case")
    return data


def _updates_checked(updates: pl.DataFrame, update_claims: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    updates = check_input(updates, "updates", UPDATE_COLUMNS, UPDATE_OPTIONAL)
    update_claims = check_input(update_claims, "update_claims", UPDATE_CLAIM_COLUMNS,
                                amounts=("paid_cents", *_OPEN_AMOUNTS))
    if updates.is_empty():
        raise EnforcementFileError("updates: an updates file needs at least one update")
    kinds = set(updates["kind"].unique().to_list()) - set(EnforcementUpdateKind)
    if kinds:
        raise EnforcementFileError(f"updates: unknown kind(s) {sorted(kinds)}")
    reasons = set(updates["suspension_reason"].drop_nulls().unique().to_list()) - set(BlockReason)
    if reasons:
        raise EnforcementFileError(f"updates: unknown suspension reason(s) {sorted(reasons)}")
    orphans = update_claims.join(updates, on="update_id", how="anti")
    if orphans.height:
        raise EnforcementFileError(f"update_claims: update_id not in updates: {_first(orphans, 'update_id')}")
    no_claims = update_claims.join(updates.filter(pl.col("kind").is_in([EnforcementUpdateKind.SUSPENDED,
                                                                         EnforcementUpdateKind.RESUMED])),
                                   on="update_id", how="semi")
    if no_claims.height:
        raise EnforcementFileError(f"update_claims: a suspension or resumption carries no claims: "
                                   f"{_first(no_claims, 'update_id')}")
    # one Claim per Kassenzeichen, as in the hand-off file: the ledger claims that share one (a dunning run's
    # Mahngebühr and Säumniszuschlag under one fee Kassenzeichen) were handed over as one claim, summed
    sums = ("paid_cents", *_OPEN_AMOUNTS)
    update_claims = update_claims.group_by("update_id", "kassenzeichen", maintain_order=True).agg(
        *(pl.col(c).sum() for c in sums), *(pl.col(c).first() for c in update_claims.columns
                                             if c not in (*sums, "update_id", "kassenzeichen")))
    return updates, update_claims


def write_updates(header: Header, updates: pl.DataFrame, update_claims: pl.DataFrame, *,
                  file: str = "updates.xml") -> bytes:
    """The updates file: one ``CaseUpdate`` per row of ``updates``, a partial payment or a settlement with
    the claims' new open amounts, a suspension with its reason, a resumption; validated before returned."""
    updates, update_claims = _updates_checked(updates, update_claims)
    c, K = pl.col, EnforcementUpdateKind
    claim_xml = pl.concat_str([
        open_tag("Claim", 4), el("Kassenzeichen", c("kassenzeichen"), 5), amount_el("Paid", c("paid_cents"), 5),
        amount_el("OpenPrincipal", c("open_principal_cents"), 5),
        amount_el("OpenSurcharges", c("open_surcharges_cents"), 5),
        amount_el("OpenFees", c("open_fees_cents"), 5), close_tag("Claim", 4)]).alias("xml")
    per_update = update_claims.select("update_id", claim_xml).group_by("update_id", maintain_order=True).agg(
        c("xml").str.join(""))
    rows = updates.join(per_update, on="update_id", how="left", maintain_order="left").with_columns(
        c("xml").fill_null(""))
    body = (pl.when(c("kind") == K.PARTIAL_PAYMENT)
            .then(pl.concat_str([open_tag("PartialPayment", 2), c("xml"), close_tag("PartialPayment", 2)]))
            .when(c("kind") == K.SETTLED)
            .then(pl.concat_str([open_tag("Settled", 2), pl.lit("      <StopAllMeasures>true</StopAllMeasures>\n"),
                                 c("xml"), close_tag("Settled", 2)]))
            .when(c("kind") == K.SUSPENDED)
            .then(pl.concat_str([open_tag("Suspended", 2),
                                 el("Reason", c("suspension_reason"), 3).fill_null("      <Reason/>\n"),
                                 date_el("Until", c("suspended_until"), 3).fill_null(""),
                                 close_tag("Suspended", 2)]))
            .otherwise(pl.lit("    <Resumed/>\n")))
    update_xml = pl.concat_str([
        open_tag("CaseUpdate", 1), el("UpdateId", c("update_id"), 2), el("CaseNumber", c("case_number"), 2),
        date_el("EffectiveDate", c("effective_date"), 2), body, opt("Note", c("note"), 2),
        close_tag("CaseUpdate", 1)])
    paid = int(update_claims["paid_cents"].sum())
    still_open = int(update_claims.select(pl.sum_horizontal(*_OPEN_AMOUNTS).sum()).item() or 0)
    head = ("  <Header>\n" + header_line("MessageId", header.message_id)
            + header_line("Created", created_text(header.created)) + header_line("Tenant", header.tenant)
            + _party_block(header)
            + "    <Counts>\n" + header_line("Updates", updates.height, 3)
            + header_line("Claims", update_claims.height, 3) + "    </Counts>\n    <ControlSums>\n"
            + header_line("Paid", euros(paid), 3) + header_line("Open", euros(still_open), 3)
            + "    </ControlSums>\n  </Header>\n")
    data = document(UPDATE, head, rows.select(update_xml)[:, 0])
    validate_written(data, file=file, item="CaseUpdate")
    return data


# --- reading ----------------------------------------------------------------------------------------------

_NS = f"{{{NAMESPACE}}}"


def _header(h: etree._Element) -> Header:
    def party(tag: str) -> Party:
        found = h.find(f"{_NS}{tag}")
        assert found is not None
        return Party.from_xml(found)

    handoff = text(h, "HandoffDate")
    return Header(message_id=text(h, "MessageId") or "", created=datetime.fromisoformat(text(h, "Created") or ""),
                  tenant=text(h, "Tenant") or "", creditor=party("Creditor"), sender=party("Sender"),
                  receiver=party("Receiver"), handoff_date=day(handoff))


def _count(h: etree._Element, tag: str) -> int:
    return int(h.findtext(f"{_NS}Counts/{_NS}{tag}") or 0)


def _sum(h: etree._Element, tag: str) -> int:
    return cents(h.findtext(f"{_NS}ControlSums/{_NS}{tag}")) or 0


def read_handoff(source: bytes | Path, *, file: str | None = None) -> HandoffRead:
    """Read a hand-off file: frames as :func:`write_handoff` takes them (``statement`` and
    ``debtor_country`` filled). A case whose elements break the schema or whose ``CaseTotal`` is not the
    sum of its claims is rejected; the header's counts must match the file; the control sums are checked
    when no case was rejected."""
    sc = screen(source, kind=HANDOFF, item="Case", file=file)
    case_rows: list[dict[str, object]] = []
    claim_rows: list[dict[str, object]] = []
    rejected = list(sc.rejected)
    for case in sc.items:
        number = text(case, "CaseNumber")
        debtor = case.find(f"{_NS}Debtor")
        address = debtor.find(f"{_NS}Address") if debtor is not None else None
        claims: list[dict[str, object]] = []
        total = 0
        for cl in case.iterfind(f"{_NS}Claim"):
            total += sum(cents(text(cl, tag)) or 0 for tag in ("Principal", "Surcharges", "Fees"))
            notice, m = cl.find(f"{_NS}Notice"), cl.find(f"{_NS}Mahnung")
            enf = cl.find(f"{_NS}Enforceability")
            claims.append({
                "case_number": number, "kassenzeichen": text(cl, "Kassenzeichen"), "claim_type": text(cl, "ClaimType"),
                "notice_date": day(text(notice, "Date")), "due_date": day(text(cl, "DueDate")),
                "principal_cents": cents(text(cl, "Principal")), "surcharges_cents": cents(text(cl, "Surcharges")),
                "fees_cents": cents(text(cl, "Fees")), "schonfrist_end": day(text(enf, "SchonfristEnd")),
                "enforceable_since": day(text(enf, "EnforceableSince")),
                "notice_reference": text(notice, "Reference"), "main_kassenzeichen": text(cl, "MainKassenzeichen"),
                "mahnung_date": day(text(m, "Date")), "mahnung_deadline": day(text(m, "Deadline")),
                "mahnung_omitted": text(cl.find(f"{_NS}MahnungOmitted"), "Reason"),
                "statement": text(enf, "Statement")})
        if total != cents(text(case, "CaseTotal")):
            element = case.find(f"{_NS}CaseTotal")
            rejected.append(reject_row(sc.file, case, [(
                element.sourceline or 0 if element is not None else 0, "CaseTotal",
                f"CaseTotal {text(case, 'CaseTotal')} is not the sum of the claims {euros(total)}")]))
            continue
        claim_rows.extend(claims)
        case_rows.append({
            "case_number": number, "debtor_id": text(debtor, "DebtorId"), "debtor_name": text(debtor, "Name"),
            "debtor_street": text(address, "Street"), "debtor_postcode": text(address, "Postcode"),
            "debtor_city": text(address, "City"), "debtor_birth_date": day(text(debtor, "BirthDate")),
            "debtor_country": text(address, "Country")})
    check_counts(sc, _count(sc.header, "Cases"), "Cases")
    claims_frame = pl.DataFrame(claim_rows, schema={**CLAIM_COLUMNS, **CLAIM_OPTIONAL}, orient="row")
    if not rejected:
        for tag, col in (("Principal", "principal_cents"), ("Surcharges", "surcharges_cents"), ("Fees", "fees_cents")):
            check_sum(sc, tag, _sum(sc.header, tag), int(claims_frame[col].sum()))
    return HandoffRead(_header(sc.header), pl.DataFrame(case_rows, schema={**CASE_COLUMNS, **CASE_OPTIONAL},
                                                        orient="row"),
                       claims_frame, rejected_frame(rejected), sc.count_in)


def read_updates(source: bytes | Path, *, file: str | None = None) -> UpdatesRead:
    """Read an updates file: frames as :func:`write_updates` takes them; a broken update is rejected."""
    sc = screen(source, kind=UPDATE, item="CaseUpdate", file=file)
    rows: list[dict[str, object]] = []
    claim_rows: list[dict[str, object]] = []
    for up in sc.items:
        uid = text(up, "UpdateId")
        kind = next(k for k in EnforcementUpdateKind if up.find(f"{_NS}{_TAGS[k]}") is not None)
        body = up.find(f"{_NS}{_TAGS[kind]}")
        rows.append({"update_id": uid, "case_number": text(up, "CaseNumber"), "kind": str(kind),
                     "effective_date": day(text(up, "EffectiveDate")), "suspension_reason": text(body, "Reason"),
                     "suspended_until": day(text(body, "Until")), "note": text(up, "Note")})
        for cl in body.iterfind(f"{_NS}Claim") if body is not None else ():
            claim_rows.append({"update_id": uid, "kassenzeichen": text(cl, "Kassenzeichen"),
                               "paid_cents": cents(text(cl, "Paid")),
                               "open_principal_cents": cents(text(cl, "OpenPrincipal")),
                               "open_surcharges_cents": cents(text(cl, "OpenSurcharges")),
                               "open_fees_cents": cents(text(cl, "OpenFees"))})
    check_counts(sc, _count(sc.header, "Updates"), "Updates")
    claims_frame = pl.DataFrame(claim_rows, schema=UPDATE_CLAIM_COLUMNS, orient="row")
    if not sc.rejected:
        check_sum(sc, "Paid", _sum(sc.header, "Paid"), int(claims_frame["paid_cents"].sum()))
    return UpdatesRead(_header(sc.header), pl.DataFrame(rows, schema={**UPDATE_COLUMNS, **UPDATE_OPTIONAL},
                                                        orient="row"),
                       claims_frame, rejected_frame(sc.rejected), sc.count_in)


#: The element of each update kind.
_TAGS = {EnforcementUpdateKind.PARTIAL_PAYMENT: "PartialPayment", EnforcementUpdateKind.SETTLED: "Settled",
         EnforcementUpdateKind.SUSPENDED: "Suspended", EnforcementUpdateKind.RESUMED: "Resumed"}
