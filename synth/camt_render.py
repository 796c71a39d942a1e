"""Render a booking frame as camt.053 (``.001.08`` or ``.001.02``) the way a Volksbank writes it.

``GrpHdr`` (MsgId, CreDtTm), one ``Stmt`` per account and day (Id, ElctrncSeqNb, LglSeqNb, Acct/IBAN,
``Bal`` OPBD and CLBD, ``TxsSummry``), ``Ntry`` with Amt, CdtDbtInd, Sts BOOK, BookgDt, ValDt,
AcctSvcrRef, ``BkTxCd`` (ISO Domn/Fmly/SubFmlyCd and DK ``Prtry`` ``NTRF+166+primanota``, Issr ``DK``),
``NtryDtls`` (``Btch/NbOfTxs`` when several bookings share an ``entry_no``) with one ``TxDtls`` per
booking: Refs (AcctSvcrRef, EndToEndId, MndtId), amount, RltdPties (Dbtr for credits and returned
direct debits, Cdtr for other debits), RltdAgts, RmtInf/Ustrd, RtrInf/Rsn/Cd; AddtlNtryInf. UTF-8.
"""

from __future__ import annotations

import re

import polars as pl

from synth.bookings import StatementHeader, cents_text, decimal_point

NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.{v}"


def _esc(e: pl.Expr) -> pl.Expr:
    return e.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True).str.replace_all(
        ">", "&gt;", literal=True)


def _t(tag: str, value: pl.Expr, ind: str) -> pl.Expr:
    """``<tag>value</tag>`` on its own line, or nothing where value is null or empty."""
    return pl.when(value.is_not_null() & (value != "")).then(
        pl.concat_str(pl.lit(f"{ind}<{tag}>"), _esc(value), pl.lit(f"</{tag}>\n"))).otherwise(pl.lit(""))


def _party(role: str, v: str, ind: str) -> pl.Expr:
    """Dbtr or Cdtr with its account: .08 wraps the name in ``Pty``."""
    name = _esc(pl.col("cp_name"))
    if v == "08":
        nm = pl.concat_str(pl.lit(f"{ind}<{role}><Pty><Nm>"), name, pl.lit(f"</Nm></Pty></{role}>\n"))
    else:
        nm = pl.concat_str(pl.lit(f"{ind}<{role}><Nm>"), name, pl.lit(f"</Nm></{role}>\n"))
    acct = pl.concat_str(pl.lit(f"{ind}<{role}Acct><Id><IBAN>"), pl.col("cp_iban"),
                         pl.lit(f"</IBAN></Id></{role}Acct>\n"))
    return pl.concat_str(
        pl.when(pl.col("cp_name").is_not_null()).then(nm).otherwise(pl.lit("")),
        pl.when(pl.col("cp_iban").is_not_null()).then(acct).otherwise(pl.lit("")),
    )


def _ultimate(v: str, ind: str) -> pl.Expr:
    inner = pl.concat_str(pl.lit("<Pty><Nm>" if v == "08" else "<Nm>"), _esc(pl.col("abwa")),
                          pl.lit("</Nm></Pty>" if v == "08" else "</Nm>"))
    return pl.when(pl.col("abwa").is_not_null()).then(
        pl.concat_str(pl.lit(f"{ind}<UltmtDbtr>"), inner, pl.lit("</UltmtDbtr>\n"))).otherwise(pl.lit(""))


def _structured(ind: str) -> pl.Expr:
    """``RmtInf`` with the structured creditor reference (type SCOR, issuer ISO: an ISO 11649 RF
    reference), after the unstructured text if there is one (the schema's order: Ustrd, then Strd)."""
    ustrd = pl.when(pl.col("svwz").is_not_null()).then(pl.concat_str(
        pl.lit("<Ustrd>"), _esc(pl.col("svwz").str.slice(0, 140)), pl.lit("</Ustrd>"))).otherwise(pl.lit(""))
    return pl.concat_str(
        pl.lit(f"{ind}<RmtInf>"), ustrd,
        pl.lit("<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>ISO</Issr></Tp><Ref>"),
        _esc(pl.col("cdtr_ref")), pl.lit("</Ref></CdtrRefInf></Strd></RmtInf>\n"))


def _charges(v: str, ind: str) -> pl.Expr:
    """``Chrgs``: the bank's charge inside the booked amount (a returned direct debit), when there is one."""
    amount = pl.concat_str(pl.lit('<Amt Ccy="EUR">'), decimal_point(pl.col("fee_cents")), pl.lit("</Amt>"))
    inner = (pl.concat_str(pl.lit("<Rcrd>"), amount, pl.lit("<CdtDbtInd>DBIT</CdtDbtInd></Rcrd>")) if v == "08"
             else amount)
    return pl.when(pl.col("fee_cents").is_not_null()).then(
        pl.concat_str(pl.lit(f"{ind}<Chrgs>"), inner, pl.lit("</Chrgs>\n"))).otherwise(pl.lit(""))


def _tx_details(v: str) -> pl.Expr:
    i = " " * 10
    amount = pl.concat_str(pl.lit('<Amt Ccy="EUR">'), decimal_point(pl.col("amount_cents")), pl.lit("</Amt>"))
    ind = pl.when(pl.col("amount_cents") < 0).then(pl.lit("DBIT")).otherwise(pl.lit("CRDT"))
    returned = pl.col("return_reason").is_not_null()
    debtor_side = (pl.col("amount_cents") > 0) | returned
    amt_block = (
        pl.concat_str(pl.lit(f"{i}"), amount, pl.lit("\n"), pl.lit(f"{i}<CdtDbtInd>"), ind, pl.lit("</CdtDbtInd>\n"))
        if v == "08"
        else pl.concat_str(pl.lit(f"{i}<AmtDtls><TxAmt>"), amount, pl.lit("</TxAmt></AmtDtls>\n"))
    )
    bic_tag = "BICFI" if v == "08" else "BIC"
    agent = pl.when(debtor_side).then(pl.lit("DbtrAgt")).otherwise(pl.lit("CdtrAgt"))
    return pl.concat_str(
        pl.lit(f"{' ' * 8}<TxDtls>\n{i}<Refs>\n"),
        _t("AcctSvcrRef", pl.col("bank_ref"), i + "  "),
        _t("PmtInfId", pl.col("kref"), i + "  "),
        pl.concat_str(pl.lit(f"{i}  <EndToEndId>"), _esc(pl.col("eref").fill_null("NOTPROVIDED")),
                      pl.lit("</EndToEndId>\n")),
        _t("MndtId", pl.col("mref"), i + "  "),
        pl.lit(f"{i}</Refs>\n"),
        amt_block,
        _charges(v, i),
        pl.when(pl.col("cp_name").is_not_null() | pl.col("cp_iban").is_not_null() | pl.col("abwa").is_not_null())
        .then(pl.concat_str(
            pl.lit(f"{i}<RltdPties>\n"),
            pl.when(debtor_side).then(_party("Dbtr", v, i + "  ")).otherwise(pl.lit("")),
            _ultimate(v, i + "  "),
            pl.when(debtor_side).then(pl.lit("")).otherwise(_party("Cdtr", v, i + "  ")),
            pl.lit(f"{i}</RltdPties>\n"),
        )).otherwise(pl.lit("")),
        pl.when(pl.col("cp_bic").is_not_null()).then(pl.concat_str(
            pl.lit(f"{i}<RltdAgts><"), agent, pl.lit(f"><FinInstnId><{bic_tag}>"), pl.col("cp_bic"),
            pl.lit(f"</{bic_tag}></FinInstnId></"), agent, pl.lit("></RltdAgts>\n"))).otherwise(pl.lit("")),
        pl.when(pl.col("svwz").is_not_null() & pl.col("cdtr_ref").is_null()).then(pl.concat_str(
            pl.lit(f"{i}<RmtInf><Ustrd>"), _esc(pl.col("svwz").str.slice(0, 140)),
            pl.lit("</Ustrd></RmtInf>\n"))).otherwise(pl.lit("")),
        pl.when(pl.col("cdtr_ref").is_not_null()).then(_structured(i)).otherwise(pl.lit("")),
        pl.when(returned).then(pl.concat_str(
            pl.lit(f"{i}<RtrInf><Rsn><Cd>"), pl.col("return_reason"), pl.lit("</Cd></Rsn></RtrInf>\n")))
        .otherwise(pl.lit("")),
        pl.lit(f"{' ' * 8}</TxDtls>\n"),
    )


def render_entries(bookings: pl.DataFrame, version: str) -> pl.Series:
    """One ``<Ntry>`` string per ``entry_no`` (several bookings of one entry become a ``Btch``)."""
    v = version
    if "fee_cents" not in bookings.columns:
        bookings = bookings.with_columns(pl.lit(None, pl.Int64()).alias("fee_cents"))
    entries = (
        bookings.with_columns(_tx_details(v).alias("tx"))
        .group_by("entry_no", maintain_order=True)
        .agg(
            pl.col("amount_cents").sum(), pl.len().alias("n"), pl.col("tx").str.join(""),
            pl.col("booking_date", "value_date", "entry_ref", "swift_code", "gvc", "primanota", "booking_text",
                   "domain", "family", "subfamily").first(),
        )
    )
    i = " " * 6
    amount = decimal_point(pl.col("amount_cents"))
    ind = pl.when(pl.col("amount_cents") < 0).then(pl.lit("DBIT")).otherwise(pl.lit("CRDT"))
    status = "<Sts><Cd>BOOK</Cd></Sts>" if v == "08" else "<Sts>BOOK</Sts>"
    batch = pl.when(pl.col("n") > 1).then(pl.concat_str(
        pl.lit(f"{i}  <Btch><NbOfTxs>"), pl.col("n").cast(pl.String), pl.lit("</NbOfTxs><TtlAmt Ccy=\"EUR\">"),
        amount, pl.lit("</TtlAmt><CdtDbtInd>"), ind, pl.lit("</CdtDbtInd></Btch>\n"))).otherwise(pl.lit(""))
    return entries.select(pl.concat_str(
        pl.lit(f"    <Ntry>\n{i}<Amt Ccy=\"EUR\">"), amount, pl.lit(f"</Amt>\n{i}<CdtDbtInd>"), ind,
        pl.lit(f"</CdtDbtInd>\n{i}{status}\n{i}<BookgDt><Dt>"), pl.col("booking_date").dt.strftime("%Y-%m-%d"),
        pl.lit(f"</Dt></BookgDt>\n{i}<ValDt><Dt>"), pl.col("value_date").dt.strftime("%Y-%m-%d"),
        pl.lit(f"</Dt></ValDt>\n{i}<AcctSvcrRef>"), pl.col("entry_ref"),
        pl.lit(f"</AcctSvcrRef>\n{i}<BkTxCd>\n{i}  <Domn><Cd>"), pl.col("domain"),
        pl.lit("</Cd><Fmly><Cd>"), pl.col("family"), pl.lit("</Cd><SubFmlyCd>"), pl.col("subfamily"),
        pl.lit(f"</SubFmlyCd></Fmly></Domn>\n{i}  <Prtry><Cd>"), pl.col("swift_code"), pl.lit("+"), pl.col("gvc"),
        pl.lit("+"), pl.col("primanota"), pl.lit(f"</Cd><Issr>DK</Issr></Prtry>\n{i}</BkTxCd>\n{i}<NtryDtls>\n"),
        batch, pl.col("tx"),
        pl.lit(f"{i}</NtryDtls>\n"),
        _t("AddtlNtryInf", pl.col("booking_text"), i),
        pl.lit("    </Ntry>\n"),
    )).to_series()


def _bal(code: str, cents: int, day: str) -> str:
    ind = "DBIT" if cents < 0 else "CRDT"
    return (f"    <Bal>\n      <Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>\n"
            f"      <Amt Ccy=\"EUR\">{cents_text(cents, '.')}</Amt>\n      <CdtDbtInd>{ind}</CdtDbtInd>\n"
            f"      <Dt><Dt>{day}</Dt></Dt>\n    </Bal>\n")


def document_head(header: StatementHeader, version: str) -> str:
    """XML declaration, ``Document``, ``BkToCstmrStmt`` and ``GrpHdr`` (MsgId from the first statement)."""
    day = header.statement_date.isoformat()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{NS.format(v=version)}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        "<BkToCstmrStmt>\n  <GrpHdr>\n"
        f"    <MsgId>{header.account.bic[:8]}{header.statement_date:%Y%m%d}{header.number:05d}</MsgId>\n"
        f"    <CreDtTm>{day}T20:15:00+01:00</CreDtTm>\n"
        "    <MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn>\n  </GrpHdr>\n"
    )


def document_tail() -> str:
    """Closing tags of the document."""
    return "</BkToCstmrStmt>\n</Document>\n"


def render_statement(header: StatementHeader, bookings: pl.DataFrame, version: str,
                     entries: list[str] | None = None) -> str:
    """One ``<Stmt>`` element for the bookings of one account and day; balances and summary tie out.

    ``entries`` may hold the already rendered ``<Ntry>`` texts of ``bookings`` (batch rendering).
    """
    acct = header.account
    day = header.statement_date.isoformat()
    amounts = bookings.get_column("amount_cents")
    total = int(amounts.sum() or 0)
    closing = header.opening_cents + total
    n_entries = bookings.get_column("entry_no").n_unique() if bookings.height else 0
    per_entry = bookings.group_by("entry_no").agg(pl.col("amount_cents").sum()).get_column("amount_cents")
    credits = per_entry.filter(per_entry > 0)
    debits = per_entry.filter(per_entry < 0)
    gross = int(per_entry.abs().sum() or 0)
    net_ind = "DBIT" if total < 0 else "CRDT"
    if entries is None:
        entries = render_entries(bookings, version).to_list() if bookings.height else []
    body = "".join(entries)
    return (
        f"  <Stmt>\n    <Id>{header.reference}</Id>\n"
        f"    <ElctrncSeqNb>{header.number}</ElctrncSeqNb>\n    <LglSeqNb>{header.number}</LglSeqNb>\n"
        f"    <CreDtTm>{day}T20:15:00+01:00</CreDtTm>\n"
        f"    <Acct>\n      <Id><IBAN>{acct.iban}</IBAN></Id>\n      <Ccy>EUR</Ccy>\n"
        f"      <Ownr><Nm>{acct.owner}</Nm></Ownr>\n"
        f"      <Svcr><FinInstnId><{'BICFI' if version == '08' else 'BIC'}>{acct.bic}"
        f"</{'BICFI' if version == '08' else 'BIC'}></FinInstnId></Svcr>\n    </Acct>\n"
        + _bal("OPBD", header.opening_cents, day) + _bal("CLBD", closing, day)
        + f"    <TxsSummry>\n      <TtlNtries><NbOfNtries>{n_entries}</NbOfNtries><Sum>{cents_text(gross, '.')}</Sum>"
        f"<TtlNetNtry><Amt>{cents_text(total, '.')}</Amt><CdtDbtInd>{net_ind}</CdtDbtInd></TtlNetNtry></TtlNtries>\n"
        f"      <TtlCdtNtries><NbOfNtries>{credits.len()}</NbOfNtries><Sum>{cents_text(int(credits.sum() or 0), '.')}"
        f"</Sum></TtlCdtNtries>\n"
        f"      <TtlDbtNtries><NbOfNtries>{debits.len()}</NbOfNtries><Sum>{cents_text(int(debits.sum() or 0), '.')}"
        f"</Sum></TtlDbtNtries>\n    </TxsSummry>\n"
        + body + "  </Stmt>\n"
    )


def render_camt053(header: StatementHeader, bookings: pl.DataFrame, version: str = "08") -> str:
    """A complete camt.053 document with one statement."""
    return document_head(header, version) + render_statement(header, bookings, version) + document_tail()


#: How banks serialise the same document (issue 20): the benchmark and the differential tests render
#: every file in each shape. ``lxml`` is the friendliest (what lxml itself writes, pretty-printed);
#: ``bank_mix`` has all of the others' quirks at once.
SHAPES = ("lxml", "one_line", "crlf_bom", "prefixed", "open_close", "references", "comments", "bank_mix")
_BETWEEN_TAGS = re.compile(r">\s+<")
_OPEN_TAG = re.compile(r"<(/?)(?![?!])")
_EMPTY = re.compile(r"<([\w.:-]+)((?: [\w.:-]+=\"[^\"<>]*\")*)/>")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_USTRD_END = "</Ustrd>"
_ENTRY_START = re.compile(r"<((?:\w+:)?)Ntry>")
_DOCUMENT = re.compile(r'<(\w+:)?Document xmlns(:\w+)?="([^"]+)"')
_SCHEMA_LOCATION = ' xsi:schemaLocation="{ns} camt.053.001.08.xsd"'


def _reference(m: re.Match[str]) -> str:
    """A non-ASCII character as a character reference, alternating decimal and hexadecimal forms."""
    code = ord(m.group(0))
    return f"&#{code};" if code % 2 else f"&#x{code:X};"


def reshape(text: str, shape: str) -> str:
    """``text`` (a whole document, or its head, statements or tail as rendered above) in ``shape``.

    Every shape keeps the document's content as an XML parser reads it, except ``open_close`` and
    ``bank_mix``, which add an empty ``<Ustrd></Ustrd>`` after each remittance line (as some banks do).
    """
    if shape == "lxml":
        return text
    if shape == "bank_mix":
        for part in ("prefixed", "open_close", "references", "comments"):
            text = reshape(text, part)
        return reshape(text, "crlf_bom")
    if shape == "one_line":
        return _BETWEEN_TAGS.sub("><", text).strip()
    if shape == "crlf_bom":
        body = text.replace("\n", "\r\n")
        return "\ufeff" + body if body.startswith("<?xml") else body
    if shape == "prefixed":
        text = _OPEN_TAG.sub(lambda m: f"<{m.group(1)}ns2:", text)
        text = text.replace("<ns2:Document xmlns=", "<ns2:Document xmlns:ns2=")
        return _DOCUMENT.sub(lambda m: m.group(0) + _SCHEMA_LOCATION.format(ns=m.group(3)), text)
    if shape == "open_close":
        text = _EMPTY.sub(lambda m: f"<{m.group(1)}{m.group(2)}></{m.group(1)}>", text)
        return re.sub(r"(</((?:\w+:)?)Ustrd>)", r"\1<\2Ustrd></\2Ustrd>", text)
    if shape == "references":
        text = text.replace(", ", "&#44; ").replace("'", "&apos;")
        return _NON_ASCII.sub(_reference, text)
    if shape == "comments":
        text = _ENTRY_START.sub(lambda m: f"<!-- Buchung -->{m.group(0)}<!-- Umsatz --> ", text)
        return text.replace("<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- Kontoauszug -->")
    raise ValueError(f"unknown shape {shape!r}; one of {', '.join(SHAPES)}")
