"""The characters and lengths a SEPA file may carry, checked per row before a pain file is written.

sepaxml cleans text silently: it transliterates (``text_unidecode``: "Müller" becomes "Muller") and cuts
names at 70 and remittance texts at 140 characters. For a treasury both are wrong: a cut remittance loses
the Kassenzeichen the money must come back with, and a changed name is not what the clerk sees. So we
never change a text here: every character outside the allowed set and every text over its length is
reported with the row, the field, the character and its position, and the writer refuses the file.

Two character sets (docs/SEPA.md, "Characters"):

* ``epc``: the Latin set every SEPA bank must accept (EPC implementation guidelines, "Character set"):
  ``a-z A-Z 0-9 / - ? : ( ) . , ' +`` and the space.
* ``dk`` (the default for German banks): the EPC set plus ``Ä Ö Ü ä ö ü ß &``. The DK's Anlage 3 of the
  DFÜ-Abkommen ("Zeichensatz") obliges German banks to accept these characters of the old DTAUS set; a
  bank may convert them (``Ä`` to ``A`` or ``AE``) when it forwards a payment abroad. Other characters that
  some sources list (``* $ %``) we could not confirm and refuse.

Identifiers (message, payment-information and end-to-end ids, mandate id, creditor id) always use the
restricted set: the EPC set without the space, at most 35 characters, not starting or ending with ``/``
and without ``//`` (the EPC rule for references).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

import polars as pl

#: The EPC Latin set, as a regex character class body (``-`` last so that it is literal).
_EPC_CLASS = r"A-Za-z0-9/?:().,'+ \-"
#: What the DK adds for German banks.
DK_EXTRA = "ÄÖÜäöüß&"
#: Identifiers: the EPC set without the space.
_ID_CLASS = r"A-Za-z0-9/?:().,'+\-"


class Charset(StrEnum):
    """Which character set the text fields of a file may use."""

    EPC = "epc"
    DK = "dk"


class FieldKind(StrEnum):
    """What a text field is, which fixes its length and its character set."""

    NAME = "name"  # Nm of creditor, debtor, payee: Max70Text
    REMITTANCE = "remittance"  # RmtInf/Ustrd: Max140Text
    ID = "id"  # MsgId, PmtInfId, EndToEndId, MndtId, creditor id: Max35Text, restricted set


class TextProblem(StrEnum):
    """Why a text field cannot go into a SEPA file as it is."""

    BAD_CHARACTER = "bad_character"
    TOO_LONG = "too_long"
    EMPTY = "empty"
    BAD_SLASH = "bad_slash"  # an identifier starting or ending with "/" or holding "//"


MAX_LENGTH: dict[FieldKind, int] = {FieldKind.NAME: 70, FieldKind.REMITTANCE: 140, FieldKind.ID: 35}

#: The columns of the frame check_text returns.
ISSUE_SCHEMA: dict[str, pl.DataType] = {
    "row": pl.UInt32(),
    "field": pl.String(),
    "problem": pl.String(),
    "character": pl.String(),
    "position": pl.Int64(),
    "length": pl.UInt32(),
    "value": pl.String(),
}


def _bad_pattern(kind: FieldKind, charset: Charset) -> str:
    """A regex matching one character a field of this kind may not hold."""
    if kind is FieldKind.ID:
        return f"[^{_ID_CLASS}]"
    extra = DK_EXTRA if charset is Charset.DK else ""
    return f"[^{_EPC_CLASS}{extra}]"


def _char_position(value: pl.Expr, needle: pl.Expr) -> pl.Expr:
    """0-based character (not byte) position of the first occurrence of needle in value."""
    return value.str.split_exact(needle, 1).struct.field("field_0").str.len_chars().cast(pl.Int64)


def allowed(text: str, kind: FieldKind, charset: Charset = Charset.DK) -> bool:
    """True when a single text may go into a field of this kind unchanged (for one value; frames use
    check_text)."""
    frame = pl.DataFrame({"v": [text]})
    return check_text(frame, {"v": kind}, charset=charset).is_empty()


def check_text(
    frame: pl.DataFrame, fields: Mapping[str, FieldKind], *, charset: Charset = Charset.DK
) -> pl.DataFrame:
    """Every problem of the given text columns, one row per problem (ISSUE_SCHEMA): the frame's row index,
    the column, the problem, the first offending character and its 0-based position (bad_character, one
    row per distinct character), the length (too_long). Null values are not checked here (whether a
    field is required is the writer's business); empty or blank strings are reported as ``empty``.

    Set-based: one Polars pass per column, whatever the number of rows.
    """
    parts: list[pl.DataFrame] = []
    indexed = frame.select(list(fields)).with_row_index("row")
    for column, kind in fields.items():
        col = pl.col(column)
        bad = _bad_pattern(FieldKind(kind), charset)
        base = indexed.select("row", col.alias("value")).filter(pl.col("value").is_not_null())
        chars = (
            base.with_columns(
                pl.col("value").str.extract_all(bad).list.unique(maintain_order=True).alias("ch")
            )
            .filter(pl.col("ch").list.len() > 0)
            .explode("ch")
            .select(
                "row",
                pl.lit(column).alias("field"),
                pl.lit(TextProblem.BAD_CHARACTER.value).alias("problem"),
                pl.col("ch").alias("character"),
                _char_position(pl.col("value"), pl.col("ch")).alias("position"),
                pl.col("value").str.len_chars().alias("length"),
                "value",
            )
        )
        length = pl.col("value").str.len_chars()
        too_long = base.filter(length > MAX_LENGTH[FieldKind(kind)]).select(
            "row",
            pl.lit(column).alias("field"),
            pl.lit(TextProblem.TOO_LONG.value).alias("problem"),
            pl.lit(None, pl.String).alias("character"),
            pl.lit(MAX_LENGTH[FieldKind(kind)], pl.Int64).alias("position"),
            length.alias("length"),
            "value",
        )
        empty = base.filter(pl.col("value").str.strip_chars() == "").select(
            "row",
            pl.lit(column).alias("field"),
            pl.lit(TextProblem.EMPTY.value).alias("problem"),
            pl.lit(None, pl.String).alias("character"),
            pl.lit(None, pl.Int64).alias("position"),
            length.alias("length"),
            "value",
        )
        parts += [chars, too_long, empty]
        if kind == FieldKind.ID:
            v = pl.col("value")
            slash = base.filter(
                v.str.starts_with("/") | v.str.ends_with("/") | v.str.contains("//", literal=True)
            )
            parts.append(
                slash.select(
                    "row",
                    pl.lit(column).alias("field"),
                    pl.lit(TextProblem.BAD_SLASH.value).alias("problem"),
                    pl.lit("/").alias("character"),
                    _char_position(pl.col("value"), pl.lit("/")).alias("position"),
                    length.alias("length"),
                    "value",
                )
            )
    if not parts:
        return pl.DataFrame(schema=ISSUE_SCHEMA)
    issues = pl.concat([p.cast(ISSUE_SCHEMA) for p in parts])  # type: ignore[arg-type]
    return issues.sort("row", "field", "problem", "position")


class SepaTextError(ValueError):
    """Raised by the writers when a text field cannot go into the file unchanged; ``issues`` is the frame
    of check_text (every problem, not only the first)."""

    def __init__(self, issues: pl.DataFrame) -> None:
        self.issues = issues
        super().__init__(issues.height)

    def __str__(self) -> str:
        shown = self.issues.head(10)
        lines = [f"row {r['row']}, field {r['field']}: {_describe(r)}" for r in shown.iter_rows(named=True)]
        more = self.issues.height - shown.height
        tail = [f"... and {more} more"] if more else []
        return f"{self.issues.height} text problem(s) for a SEPA file:\n" + "\n".join(lines + tail)


def _describe(row: Mapping[str, object]) -> str:
    problem = row["problem"]
    if problem == TextProblem.BAD_CHARACTER:
        ch = str(row["character"])
        return f"character {ch!r} (U+{ord(ch[0]):04X}) at position {row['position']} is not allowed"
    if problem == TextProblem.TOO_LONG:
        return f"{row['length']} characters, at most {row['position']} allowed"
    if problem == TextProblem.BAD_SLASH:
        return "an identifier must not start or end with '/' nor contain '//'"
    return "empty"


def refuse_bad_text(
    frame: pl.DataFrame, fields: Mapping[str, FieldKind], *, charset: Charset = Charset.DK
) -> None:
    """Raise SepaTextError listing every problem, or return when all fields may go in unchanged."""
    issues = check_text(frame, fields, charset=charset)
    if not issues.is_empty():
        raise SepaTextError(issues)


def convert_names(frame: pl.DataFrame, column: str, *, charset: Charset = Charset.DK) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Write the names in ``column`` in the SEPA character set the way the EPC's best practice for names
    does (EPC217-08: a character outside the set is converted to its Latin base form — "Çelik" becomes
    "Celik", "Ørsted" "Orsted", "Łukasz" "Lukasz" —; here with ``anyascii``): the frame with the names
    converted, and a report ``row``, ``original``, ``converted`` of every name changed.

    For names only: the bank files the name beside the IBAN and does not book by it, and a debtor whose name
    has a "ë" must be collected like anyone else. Only letters (and combining accents, dropped) are
    converted; a symbol, a control or a direction mark stays and ``check_text`` refuses it — such a name is
    a data error to correct, not a spelling. Ids and remittance texts are never converted (they are what
    the treasury reads back). The umlauts and ß of the DK set stay. A converted name longer than the field
    stays too long: ``check_text`` still refuses it.

    Set-based: the distinct characters outside the set are found in one pass and each is converted once.
    """
    import unicodedata

    from anyascii import anyascii

    bad = _bad_pattern(FieldKind.NAME, charset)
    values = frame.get_column(column)
    chars = [c for c in values.str.extract_all(bad).explode().drop_nulls().unique().to_list()
             if unicodedata.category(c)[0] in "LM"]
    if not chars:
        return frame, pl.DataFrame(schema={"row": pl.UInt32(), "original": pl.String(), "converted": pl.String()})
    table = {c: anyascii(c) for c in chars}
    converted = values.str.replace_many(list(table), list(table.values()))
    report = (pl.DataFrame({"original": values, "converted": converted}).with_row_index("row")
              .filter(pl.col("original") != pl.col("converted")))
    return frame.with_columns(converted.alias(column)), report
