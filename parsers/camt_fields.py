"""Cut the fields out of serialised camt entries, vectorised (Polars regular expressions, Rust speed).

The text comes from lxml's serialiser, so its shape is fixed whatever the bank wrote: tags without
namespace prefixes (removed while streaming), attributes in double quotes, empty elements as ``<X/>``,
no comments, CDATA turned into escaped text. Text cannot hold a raw ``<``, so ``[^<]*`` is exactly an
element's text, and ``<Name>`` / ``<Name attr…>`` is exactly that element (``<Dbtr>`` never matches
``<DbtrAcct>``). Entry-level fields are read from the entry with its nested blocks cut away, so that an
``Amt`` inside ``NtryDtls`` or ``Chrgs`` is never taken for the entry's own amount.

Output: one row per ``TxDtls`` (one row with null detail fields when an entry has none), values still
as text; ``camt_rows`` turns them into the canonical columns.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from parsers.camt_values import cents_expr, code_expr, nonempty_expr, text_expr, unescape_expr

#: DK rule for unstructured remittance (DFÜ-Abkommen, Anlage 3): a long text is cut into ``Ustrd``
#: chunks of 140 characters. A chunk of exactly 140 characters was cut mid-text, so the next chunk
#: follows without a separator; a shorter chunk ended where the sender ended it, so a space follows.
USTRD_CHUNK = 140


def _leaf(name: str) -> str:
    return rf"<{name}(?:\s[^>]*)?>([^<]*)</{name}>"


def _drop(*names: str) -> str:
    return "(?s)" + "|".join(rf"<{n}(?:\s[^>]*?)?(?:/>|>.*?</{n}>)" for n in names)


def _ccy(before: str = "") -> str:
    return rf'(?s){before}<Amt\s[^>]*?Ccy="([^"]*)"'


def _text(entities: bool) -> Callable[[pl.Expr], pl.Expr]:
    return text_expr if entities else code_expr


def _same(col: pl.Expr) -> pl.Expr:
    return col


def _inside(col: pl.Expr, name: str) -> pl.Expr:
    """Content of the first ``<name>…</name>`` (null if absent), by literal splits: no regex engine.

    Only for block elements, which never carry attributes in camt.
    """
    after = col.str.splitn(f"<{name}>", 2).struct.field("field_1")
    return after.str.splitn(f"</{name}>", 2).struct.field("field_0")


def _cut(frame: pl.DataFrame, column: str, names: tuple[str, ...]) -> list[pl.Expr]:
    """``_inside(column, name)`` as ``_<name>`` for each name, done the cheapest way for this frame.

    A block no row holds is null without a pass; a block few rows hold is cut by a regular expression
    that is fast where it finds nothing; a common block by :func:`_inside`. All three agree exactly.
    """
    col = pl.col(column)
    counts = frame.select(col.str.contains(f"<{n}>", literal=True).sum().alias(n) for n in names).row(0)
    out: list[pl.Expr] = []
    for name, count in zip(names, counts, strict=True):
        if not count:
            expr = pl.lit(None, pl.String)
        elif count * 4 < frame.height:
            expr = col.str.extract(rf"<{name}>((?s:.*?))(?:</{name}>|\z)", 1)
        else:
            expr = _inside(col, name)
        out.append(expr.alias(f"_{name}"))
    return out


def _charges(block: pl.Expr, name: str) -> list[pl.Expr]:
    """Sum of the ``Amt`` values in a ``Chrgs`` block (``Tax`` amounts excluded), and how many were bad."""
    amounts = block.str.replace_all(_drop("Tax"), "").str.extract_all(_leaf("Amt"))
    cents = amounts.list.eval(cents_expr(pl.element().str.extract(r">([^<]*)<", 1)))
    return [
        pl.when(block.is_not_null()).then(cents.list.sum()).alias(name),
        (amounts.list.len() - cents.list.drop_nulls().list.len()).fill_null(0).alias(f"{name}_bad"),
    ]


def _bank_code(block: pl.Expr, prefix: str) -> list[pl.Expr]:
    return [
        code_expr(block.str.extract(r"<Domn>\s*<Cd>([^<]*)<", 1)).alias(f"{prefix}domain"),
        code_expr(block.str.extract(r"<Fmly>\s*<Cd>([^<]*)<", 1)).alias(f"{prefix}family"),
        code_expr(block.str.extract(_leaf("SubFmlyCd"), 1)).alias(f"{prefix}subfamily"),
        text_expr(block.str.extract(r"<Prtry>\s*<Cd>([^<]*)<", 1)).alias(f"{prefix}proprietary"),
    ]


def split_entries(chunks: pl.DataFrame) -> pl.DataFrame:
    """Chunks (``stmt``, ``first_entry``, ``count``, ``text``) -> one row per entry: ``stmt``, ``entry_index``, ``raw``.

    A chunk's text may run on past its ``count`` entries (read-ahead of the parser): only the first
    ``count`` pieces ending in ``</Ntry>`` are taken. ``junk`` holds anything found before an entry
    that is not part of it (not schema-valid; reported).
    """
    pieces = pl.col("text").str.split("</Ntry>")
    base = (
        chunks.with_columns(
            pieces.list.slice(0, pl.min_horizontal(pl.col("count"), pieces.list.len() - 1)).alias("raw")
        )
        .with_columns(
            pl.int_ranges(pl.col("first_entry"), pl.col("first_entry") + pl.col("raw").list.len(), dtype=pl.Int32)
            .alias("entry_index")
        )
        .select("stmt", "entry_index", "raw")
        .explode("entry_index", "raw")
    )
    # line breaks and indentation between tags are layout, not data: dropping them here makes raw
    # (kept for every row) about 15 % smaller and every later pass shorter
    base = base.with_columns(pl.col("raw").str.replace_all(r">\s*\n\s*<", "><").str.strip_chars_start())
    if base.get_column("raw").str.starts_with("<Ntry>").all():  # the normal case: nothing between entries
        return base.with_columns(pl.lit("").alias("junk"), (pl.col("raw") + "</Ntry>").alias("raw"))
    parts = pl.col("raw").str.splitn("<Ntry>", 2)
    entry = pl.coalesce("<Ntry>" + parts.struct.field("field_1"), pl.col("raw").str.extract(r"(?s)<Ntry[\s/>].*", 0))
    return base.with_columns(
        pl.when(parts.struct.field("field_1").is_not_null()).then(parts.struct.field("field_0").str.strip_chars())
        .otherwise(pl.lit("")).alias("junk"),
        (entry + "</Ntry>").alias("raw"),
    )


#: the entry's children after its simple fields (ISO order: NtryRef, Amt, CdtDbtInd, RvslInd, Sts,
#: BookgDt, ValDt, AcctSvcrRef come first)
_AFTER_SIMPLE = r"(?s)<(?:Avlbty|BkTxCd|ComssnWvrInd|AddtlInfInd|AmtDtls|Chrgs|TechInptChanl|Intrst|CardTx|NtryDtls|AddtlNtryInf)[\s>/].*$"
#: a detail's children that hold nested Amt/CdtDbtInd elements (its own Amt, CdtDbtInd come first)
_DETAIL_BLOCKS = (r"(?s)<(?:AmtDtls|Avlbty|BkTxCd|Chrgs|Intrst|RltdPties|RltdAgts|LclInstrm|Purp|RltdRmtInf|RmtInf|"
                  r"RltdDts|RltdPric|RltdQties|FinInstrmId|Tax|RtrInf|CorpActn|SfkpgAcct|CshDpst|CardTx|AddtlTxInf|"
                  r"SplmtryData)[\s>/].*$")
_AFTER_CHARGES = r"(?s)<(?:TechInptChanl|Intrst|CardTx)[\s>/].*$"


def entry_fields(entries: pl.DataFrame, *, entities: bool = True) -> pl.DataFrame:
    """Add the entry-level fields and the list of the entry's ``TxDtls`` contents (``_tx``).

    ``entities=False`` promises that no row holds an ``&``: text values then need no unescaping.
    """
    text_expr = _text(entities)
    raw = pl.col("raw")
    pre = pl.col("_pre")  # the entry up to its NtryDtls
    simple = pl.col("_simple")
    nb_of_txs = raw.str.extract_all(_leaf("NbOfTxs")).list.eval(
        pl.element().str.extract(r">\s*([0-9]{1,9})\s*<", 1).cast(pl.Int64)
    )
    tx_parts = raw.str.split("</TxDtls>")
    charges = pl.when(pre.str.contains("<Chrgs>", literal=True)).then(
        pre.str.splitn("<Chrgs>", 2).struct.field("field_1").str.replace(_AFTER_CHARGES, "")
    )
    with_pre = entries.with_columns(raw.str.splitn("<NtryDtls>", 2).struct.field("field_0").alias("_pre"))
    return (
        with_pre.with_columns(
            pre.str.replace(_AFTER_SIMPLE, "").alias("_simple"),
            *_cut(with_pre, "_pre", ("BkTxCd", "AmtDtls")),
            charges.alias("_charges"),
        )
        .with_columns(
            pl.col("_BkTxCd").alias("_bktxcd"),
            _inside(pl.col("_AmtDtls"), "InstdAmt").alias("_instructed"),
        )
        .with_columns(
            simple.str.extract(_leaf("Amt"), 1).alias("e_amount"),
            simple.str.extract(_ccy(), 1).alias("e_currency"),
            code_expr(simple.str.extract(_leaf("CdtDbtInd"), 1)).alias("e_cdi"),
            code_expr(simple.str.extract(_leaf("RvslInd"), 1)).alias("e_reversal"),
            code_expr(simple.str.extract(r"<Sts>\s*(?:<(?:Cd|Prtry)>)?([^<]*)<", 1)).alias("e_status"),
            simple.str.extract(r"<BookgDt>\s*<(?:Dt|DtTm)>([^<]*)<", 1).alias("e_booking"),
            simple.str.extract(r"<ValDt>\s*<(?:Dt|DtTm)>([^<]*)<", 1).alias("e_value"),
            simple.str.contains("<BookgDt", literal=True).alias("e_has_booking"),
            text_expr(simple.str.extract(_leaf("AcctSvcrRef"), 1)).alias("e_bank_ref"),
            text_expr(raw.str.extract(_leaf("AddtlNtryInf"), 1)).alias("e_info"),
            *_bank_code(pl.col("_bktxcd"), "e_"),
            *_charges(pl.col("_charges"), "e_charges"),
            pl.col("_instructed").str.extract(_leaf("Amt"), 1).alias("e_instructed"),
            pl.col("_instructed").str.extract(_ccy(), 1).alias("e_instructed_ccy"),
            nb_of_txs.list.sum().alias("e_nb_of_txs"),
            (nb_of_txs.list.len() > 0).alias("e_has_batch"),
            tx_parts.list.slice(0, tx_parts.list.len() - 1)
            .list.eval(pl.element().str.splitn("<TxDtls>", 2).struct.field("field_1"))
            .alias("_tx"),
        )
        .drop("_pre", "_simple", "_bktxcd", "_charges", "_instructed", "_BkTxCd", "_AmtDtls")
    )


def detail_fields(entries: pl.DataFrame, *, entities: bool = True) -> pl.DataFrame:
    """Explode the entries into one row per ``TxDtls`` (``detail_index``) and add the detail fields.

    Blocks are cut out first into their own columns (eager Polars does not share common
    subexpressions), then the fields are read from the small blocks. ``entities`` as in :func:`entry_fields`.
    """
    text_expr = _text(entities)
    n = pl.col("_tx").list.len()
    tx = pl.col("_tx")
    blocks = ("Refs", "RltdPties", "RltdAgts", "RmtInf", "TxAmt", "InstdAmt", "BkTxCd", "RtrInf", "Chrgs",
              "CdtrSchmeId")
    rows = entries.with_columns(
        n.cast(pl.Int32).alias("n_tx"),
        pl.int_ranges(0, n, dtype=pl.Int32).alias("detail_index"),
    ).explode("_tx", "detail_index", empty_as_null=True)
    rows = rows.with_columns(
        # v3+: the detail's own Amt and CdtDbtInd come before any nested block
        tx.str.replace(_DETAIL_BLOCKS, "").alias("_own"),
        *_cut(rows, "_tx", blocks),
    ).drop("_tx")
    rows = rows.with_columns(
        *_cut(rows, "_RltdPties", ("Dbtr", "Cdtr", "UltmtDbtr", "UltmtCdtr", "DbtrAcct", "CdtrAcct")),
        *_cut(rows, "_RltdAgts", ("DbtrAgt", "CdtrAgt")),
        pl.col("_RmtInf").str.extract_all(r"<Ustrd(?:\s[^>]*)?>[^<]*</Ustrd>").list.eval(
            (unescape_expr if entities else _same)(pl.element().str.extract(r">([^<]*)<", 1))
        ).alias("_ustrd"),
    )
    ustrd = pl.col("_ustrd")
    joined = ustrd.list.eval(
        pl.when(pl.element().str.len_chars() >= USTRD_CHUNK).then(pl.element()).otherwise(pl.element() + " ")
    ).list.join("")

    def name(block: str) -> pl.Expr:
        return text_expr(pl.col(f"_{block}").str.extract(_leaf("Nm"), 1))

    def account(block: str) -> pl.Expr:
        acct = pl.col(f"_{block}")
        return code_expr(pl.coalesce(
            acct.str.extract(_leaf("IBAN"), 1),
            acct.str.extract(r"<(?:Othr|PrtryAcct)>\s*<Id>([^<]*)<", 1),
            acct.str.extract(_leaf("BBAN"), 1),
        ))

    def bic(block: str) -> pl.Expr:
        return code_expr(pl.col(f"_{block}").str.extract(r"<BIC(?:FI)?>([^<]*)<", 1))

    own, refs, rtr = pl.col("_own"), pl.col("_Refs"), pl.col("_RtrInf")
    helper = [c for c in rows.columns if c.startswith("_")]
    return rows.with_columns(
        pl.col("detail_index").fill_null(0),
        pl.col("_TxAmt").str.extract(_leaf("Amt"), 1).alias("d_tx_amount"),
        pl.col("_TxAmt").str.extract(_ccy(), 1).alias("d_tx_currency"),
        own.str.extract(_leaf("Amt"), 1).alias("d_amount"),
        own.str.extract(_ccy(), 1).alias("d_currency"),
        code_expr(own.str.extract(_leaf("CdtDbtInd"), 1)).alias("d_cdi"),
        pl.col("_InstdAmt").str.extract(_leaf("Amt"), 1).alias("d_instructed"),
        pl.col("_InstdAmt").str.extract(_ccy(), 1).alias("d_instructed_ccy"),
        text_expr(refs.str.extract(_leaf("EndToEndId"), 1)).alias("d_end_to_end"),
        text_expr(refs.str.extract(_leaf("MndtId"), 1)).alias("d_mandate"),
        text_expr(refs.str.extract(_leaf("PmtInfId"), 1)).alias("d_payment_info"),
        text_expr(refs.str.extract(_leaf("AcctSvcrRef"), 1)).alias("d_bank_ref"),
        *_bank_code(pl.col("_BkTxCd"), "d_"),
        name("Dbtr").alias("d_debtor"),
        name("Cdtr").alias("d_creditor"),
        name("UltmtDbtr").alias("d_ultimate_debtor"),
        name("UltmtCdtr").alias("d_ultimate_creditor"),
        account("DbtrAcct").alias("d_debtor_account"),
        account("CdtrAcct").alias("d_creditor_account"),
        bic("DbtrAgt").alias("d_debtor_bic"),
        bic("CdtrAgt").alias("d_creditor_bic"),
        text_expr(pl.coalesce(
            pl.col("_CdtrSchmeId").str.extract(r"<Othr>\s*<Id>([^<]*)<", 1),
            pl.col("_Cdtr").str.extract(r"<PrvtId>\s*<Othr>\s*<Id>([^<]*)<", 1),
        )).alias("d_creditor_id"),
        text_expr(_inside(pl.col("_RmtInf"), "CdtrRefInf").str.extract(_leaf("Ref"), 1)).alias("d_creditor_ref"),
        # a return without a reason code keeps its narrative (AddtlInf), so the return is not lost
        pl.coalesce(
            code_expr(rtr.str.extract(r"<Rsn>\s*<(?:Cd|Prtry)>([^<]*)<", 1)),
            text_expr(rtr.str.extract(_leaf("AddtlInf"), 1)),
        ).alias("d_return"),
        pl.when(ustrd.list.len() > 0).then(nonempty_expr(joined.str.strip_chars())).alias("d_remittance"),
        *_charges(pl.col("_Chrgs"), "d_charges"),
    ).drop(helper)
