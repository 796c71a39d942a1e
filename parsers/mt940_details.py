"""The German DK structure of ``:86:`` (DFÜ-Abkommen Anlage 3), vectorised over all entries.

``GVC?00booking text?10primanota?20…?29 purpose?30 BIC/BLZ?31 IBAN/account?32?33 name?34 key ext?60…?63``.
Lines are joined without separators first (DK wraps at 65 characters, even inside ``?2`` + ``2``),
then each subfield is located by a marker. The purpose lines ``?20``–``?29`` and ``?60``–``?63`` are
joined without separators and split at the SEPA keywords, whose content runs on across subfields.
Unstructured ``:86:`` text stays as text in ``remittance``.
"""

from __future__ import annotations

import polars as pl

#: SEPA keywords in DK order, and the column each one fills (None: kept only in ``raw``).
SEPA_KEYWORDS: dict[str, str | None] = {
    "EREF": "end_to_end_id",
    "KREF": "customer_ref",
    "MREF": "mandate_id",
    "CRED": "creditor_id",
    "DEBT": None,
    "COAM": "_coam",
    "OAMT": "_oamt",
    "SVWZ": "_svwz",
    "ABWA": "_abwa",
    "ABWE": "_abwe",
}

#: GVCs whose ``?34`` is a SEPA return reason (DOMAIN.md rules 8–9: returned direct debits and
#: returned transfers). Elsewhere ``?34`` is e.g. the direct-debit sequence type 990–993.
RETURN_GVCS = ["108", "109", "159", "160", "193"]

#: Subfield numbers we treat as markers. DK defines 00, 10, 20–34, 60–63; real files also use
#: 11, 35, 38 and 70/71. Any other ``?`` + two characters (``?2A``, ``?96``) is text plus a warning.
_VALID_SUBFIELD = r"\?(00|1[01]|2[0-9]|3[0-8]|6[0-3]|7[01])"
_MARK = "\x1e"  # record separator: cannot occur in decoded bank text (control bytes are removed)
_KW = "\x1f"


def _sub(flat: pl.Expr, code: str) -> pl.Expr:
    """Content of the (first) subfield ``code`` (a regex for the two digits), stripped; '' -> null."""
    value = flat.str.extract(f"{_MARK}(?:{code})([^{_MARK}]*)", 1).str.strip_chars()
    return pl.when(value.str.len_bytes() > 0).then(value)


def _joined(flat: pl.Expr, code: str) -> pl.Expr:
    """All subfields matching ``code`` in order, joined without separator."""
    parts = flat.str.extract_all(f"{_MARK}(?:{code})[^{_MARK}]*")
    return parts.list.eval(pl.element().str.slice(3)).list.join("")


def _nonempty(expr: pl.Expr) -> pl.Expr:
    value = expr.str.strip_chars()
    return pl.when((value.str.len_bytes() > 0) & (value != "NOTPROVIDED")).then(value)


def parse_details(entries: pl.DataFrame, col: str = "details") -> pl.DataFrame:
    """Add the DK columns to ``entries`` from the raw ``:86:`` text in ``col`` (null allowed).

    Adds ``tx_code`` (GVC), ``booking_text``, ``primanota``, ``counterparty_bic``,
    ``counterparty_iban``, ``counterparty_name``, ``text_key_ext``, ``return_reason``,
    ``end_to_end_id``, ``details_customer_ref``, ``mandate_id``, ``creditor_id``, ``ultimate_party``,
    ``remittance``, ``details_oamt`` (text), ``details_coam`` (text), ``details_structured`` and
    ``details_bad_subfield`` (the first invalid ``?xx``, for the warning).
    """
    text = pl.col(col).fill_null("")
    flat0 = text.str.replace_all("\n", "", literal=True)
    # Triodos (NL) writes DK-like subfields with ">" instead of "?".
    flat0 = pl.when(flat0.str.contains(r"^\d{3}>\d\d")).then(flat0.str.replace_all(r">(\d\d)", "?$1")).otherwise(flat0)
    structured = flat0.str.contains(r"^\s*\d{3}\s*\?")
    df = entries.with_columns(
        structured.alias("details_structured"),
        pl.when(structured).then(flat0.str.replace_all(_VALID_SUBFIELD, f"{_MARK}$1")).alias("_flat"),
        flat0.alias("_flat0"),
    )
    flat = pl.col("_flat")
    purpose = _joined(flat, r"2[0-9]|6[0-3]")
    df = df.with_columns(
        pl.when(pl.col("details_structured") | pl.col("_flat0").str.starts_with("999"))
        .then(pl.col("_flat0").str.strip_chars_start().str.slice(0, 3))
        .alias("tx_code"),
        _sub(flat, "00").alias("booking_text"),
        _sub(flat, "10").alias("primanota"),
        _sub(flat, "30").alias("counterparty_bic"),
        _sub(flat, "31").str.replace_all(" ", "", literal=True).alias("counterparty_iban"),
        _nonempty(_joined(flat, "3[23]")).alias("counterparty_name"),
        _sub(flat, "34").alias("text_key_ext"),
        flat.str.extract(r"(\?.{0,2})", 1).alias("details_bad_subfield"),
        # Each keyword occurrence starts a new piece; then every keyword's piece is looked up.
        purpose.str.replace_all(r"(EREF|KREF|MREF|CRED|DEBT|COAM|OAMT|SVWZ|ABWA|ABWE)\+", f"{_KW}$1+").alias(
            "_purpose"
        ),
    )
    p = pl.col("_purpose")
    kw_cols = []
    for kw, target in SEPA_KEYWORDS.items():
        if target is not None:
            kw_cols.append(_nonempty(p.str.extract(f"{_KW}{kw}\\+([^{_KW}]*)", 1)).alias(target))
    df = df.with_columns(*kw_cols, _nonempty(p.str.extract(f"^([^{_KW}]*)", 1)).alias("_free"))
    has_kw = p.str.contains(_KW, literal=True)
    unstructured = (
        text.str.replace(r"^999", "")
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )
    remittance = (
        pl.when(~pl.col("details_structured"))
        .then(_nonempty(unstructured))
        .when(has_kw & pl.col("_svwz").is_not_null())
        .then(pl.col("_svwz"))
        .otherwise(pl.col("_free"))
    )
    return df.with_columns(
        remittance.alias("remittance"),
        pl.coalesce("_abwa", "_abwe").alias("ultimate_party"),
        pl.when(pl.col("tx_code").is_in(RETURN_GVCS)).then(pl.col("text_key_ext")).alias("return_reason"),
        pl.col("customer_ref").alias("details_customer_ref"),
        pl.col("_oamt").alias("details_oamt"),
        pl.col("_coam").alias("details_coam"),
    ).drop("_flat", "_flat0", "_purpose", "_free", "_svwz", "_abwa", "_abwe", "_oamt", "_coam", "customer_ref")
