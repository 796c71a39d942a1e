"""MT940/MT942 text to fields: one row per tag with its content, line and statement (vectorised).

The whole file becomes a Series of lines. Tag lines are classified with one regex; a line that
looks like a tag is a tag only if the tag exists in MT940/MT942 and may stand where it stands
(``:12:`` or ``:KO:`` inside an ``:86:`` is text that happens to start with a colon). Continuation
lines are attached to the tag before them by a forward fill, and each ``:20:`` starts a statement.
"""

from __future__ import annotations

import io

import polars as pl

#: Tags of MT940 and MT942 (plus the common non-SWIFT ``:NS:``) that we accept at the start of a line.
KNOWN_TAGS = [
    "20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65",
    "13", "13D", "34F", "90D", "90C", "NS",
]  # fmt: skip

#: Tags that may follow an ``:86:`` field. Any other tag-looking line there is continuation text
#: (e.g. ``:26:37 Fo?25`` or ``:28C:`` mid-sentence in a wrapped remittance).
AFTER_DETAILS = ["61", "86", "62F", "62M", "64", "65", "20", "90D", "90C", "NS"]

_LOOKS_LIKE_TAG_RE = r"^:[0-9A-Z]{2,3}:"


def _strip_envelopes(line: pl.Expr) -> pl.Expr:
    """Remove SWIFT FIN envelopes ``{1:..}{2:..}{3:..}{4:`` and ``-}{5:..}`` without moving lines.

    PostFinance puts the end of one message and the start of the next on one line (``-}{1:…{4:``);
    that line becomes the end marker ``-``.
    """
    return (
        line.str.replace(r"^-\}.*$", "-")
        .str.replace(r"^\{1:.*\{4:", "")
        .str.replace(r"^\{4:", "")
        .str.replace(r"^\{5:.*$", "")
        .str.replace(r"^\}$", "")
    )


def _read_lines(text: str) -> pl.DataFrame:
    """Lines of ``text`` as a one-column frame, read by Polars' multi-threaded CSV reader.

    The reader keeps empty lines (as nulls, filled with ''); the column separator is a control
    character absent from the text, and quoting is off.
    """
    if not text:
        return pl.DataFrame({"line": [""]})
    sep = next((c for c in "\x1e\x1d\x1c\x1f\x02\x04\x05\x06" if c not in text), None)
    if sep is None:  # pragma: no cover - every candidate control character occurs: split in Polars
        return pl.DataFrame({"line": [text]}).select(pl.col("line").str.split("\n")).explode("line")
    data = text.encode("utf-8")
    df = pl.read_csv(
        io.BytesIO(data), has_header=False, separator=sep, quote_char=None, new_columns=["line"],
        schema={"line": pl.String()},
    )
    return df.select(pl.col("line").fill_null(""))


def split_lines(text: str) -> pl.DataFrame:
    """The text as a frame of lines: ``line_no`` (1-based) and ``line`` (without CR, envelopes stripped).

    FinTS files that use ``@@`` instead of line breaks (HIKAZ, MT942 ``pending.sta``) are split at
    ``@@``; the line numbers are then those of the logical lines.
    """
    if "@@:" in text:
        text = text.replace("@@", "\n")
    df = _read_lines(text)
    line = pl.col("line").str.strip_chars_end("\r").str.replace_all("\r", "", literal=True)
    if "{" in text:
        line = _strip_envelopes(line)
    return df.select(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).alias("line_no"), line.alias("line"))


def classify(lines: pl.DataFrame) -> pl.DataFrame:
    """Add ``tag`` (tag starting here, else null), ``stmt`` (statement ordinal, -1 outside) and ``kind``.

    ``kind`` is ``tag``, ``text`` (continuation), ``end`` (the ``-`` marker), ``blank``, ``unknown``
    (a tag-looking line where no tag can stand: a warning) or ``outside`` (text between messages).
    """
    # ":61:..." split at ":" gives ["", "61", ...]: a literal split instead of a capturing regex.
    cand = pl.col("line").str.split_exact(":", 2).struct.field("field_1")
    known = pl.col("line").str.starts_with(":") & cand.is_in(KNOWN_TAGS)
    df = lines.with_columns(
        pl.when(known).then(cand).alias("_cand"),
        pl.col("line").str.contains(_LOOKS_LIKE_TAG_RE).alias("_looks"),
        pl.col("line").str.contains(r"^-\s*$").alias("_end"),
        (pl.col("line").str.strip_chars().str.len_bytes() == 0).alias("_blank"),
    )
    prev = pl.col("_cand").forward_fill().shift(1)
    in_details = (prev == "86").fill_null(False)
    is_tag = pl.col("_cand").is_not_null() & ~(in_details & ~pl.col("_cand").is_in(AFTER_DETAILS))
    df = df.with_columns(
        pl.when(is_tag).then(pl.col("_cand")).alias("tag"),
        (pl.col("_looks") & ~is_tag & ~in_details).alias("_unknown"),
    )
    # Inside a message: from a :20: up to the end marker "-" (a line that is only "-").
    opened = pl.when(pl.col("tag") == "20").then(True).when(pl.col("_end")).then(False)
    df = df.with_columns(
        (pl.col("tag") == "20").fill_null(False).cast(pl.Int32).cum_sum().sub(1).alias("_n20"),
        opened.forward_fill().fill_null(False).alias("_open"),
    )
    kind = (
        pl.when(pl.col("_blank"))
        .then(pl.lit("blank"))
        .when(pl.col("_end"))
        .then(pl.lit("end"))
        .when(~pl.col("_open"))
        .then(pl.lit("outside"))
        .when(pl.col("tag").is_not_null())
        .then(pl.lit("tag"))
        .when(pl.col("_unknown"))
        .then(pl.lit("unknown"))
        .otherwise(pl.lit("text"))
    )
    return df.select(
        "line_no",
        "line",
        "tag",
        pl.when(pl.col("_open")).then(pl.col("_n20")).otherwise(-1).alias("stmt"),
        kind.alias("kind"),
    )


def to_fields(classified: pl.DataFrame) -> pl.DataFrame:
    """One row per field: ``stmt``, ``field_no``, ``tag``, ``line_no`` and ``content``.

    The content is the text after the tag, continuation lines joined with ``\\n`` (kept, because
    the :86: grammar joins DK lines without a separator and free text with a space). Unknown
    tag-looking lines form their own field with tag ``?`` so the caller can report them.
    """
    body = classified.filter(pl.col("kind").is_in(["tag", "text", "unknown"]))
    starts = (pl.col("kind") != "text") | (pl.col("stmt") != pl.col("stmt").shift(1)).fill_null(True)
    body = body.with_columns(
        starts.cum_sum().alias("field_no"),
        pl.when(pl.col("kind") == "tag")
        .then(pl.col("line").str.slice(pl.col("tag").str.len_chars() + 2))
        .otherwise(pl.col("line"))
        .alias("content"),
        pl.when(pl.col("kind") == "unknown").then(pl.lit("?")).otherwise(pl.col("tag")).alias("tag"),
    )
    # A list aggregation joined afterwards is far cheaper than str.join inside agg.
    fields = body.group_by("field_no").agg(
        pl.col("stmt").first(),
        pl.col("tag").first().fill_null("?"),
        pl.col("line_no").first(),
        pl.col("content"),
    )
    return fields.sort("field_no").select(
        "stmt", "field_no", "tag", "line_no", pl.col("content").list.join("\n")
    )
