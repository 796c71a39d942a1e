"""MT940/MT942 text to fields: one row per tag with its content, line and statement (vectorised).

The text is cut before every line that starts with ``:`` (one pass of Polars' multi-threaded CSV
reader with the record separator as line end), so each piece is a tag with its continuation
lines. A piece is a tag only if the tag exists in MT940/MT942 and may stand where it stands
(``:12:`` or ``:KO:`` inside an ``:86:`` is text that happens to start with a colon): such pieces
are glued back to the field before them. Each ``:20:`` opens a statement; an end marker line
(``-``, ``-}``, a SWIFT envelope ``{…``) closes it, and whatever follows up to the next ``:20:``
is outside any statement.

Every line end counts, CRLF, LF or a bare CR (:func:`normalise`), and before anything is built the
text's shape is checked (:func:`overlong`, :func:`tag_lines`): a line, a field or a count of fields
far beyond any bank statement's makes the file no statement (memory grows with them).
"""

from __future__ import annotations

import io

import polars as pl

from parsers.limits import first_long_stretch

#: Tags of MT940 and MT942 (plus the common non-SWIFT ``:NS:``) that we accept at the start of a line.
KNOWN_TAGS = [
    "20", "21", "25", "28", "28C", "60F", "60M", "61", "86", "62F", "62M", "64", "65",
    "13", "13D", "34F", "90D", "90C", "NS",
]  # fmt: skip

#: Tags that may follow an ``:86:`` field. Any other tag-looking line there is continuation text
#: (e.g. ``:26:37 Fo?25`` or ``:28C:`` mid-sentence in a wrapped remittance).
AFTER_DETAILS = ["61", "86", "62F", "62M", "64", "65", "20", "90D", "90C", "NS"]

_LOOKS_LIKE_TAG = r"^:([0-9A-Z]{2,3}):"  # the tag captured
# End of a message inside a piece: a line "-" (maybe "-}…"), a SWIFT envelope line "{n:" or "}",
# or the DOS end-of-file mark.
_END = r"\n(?:-[ \t]*(?:\n|$)|-\}|\{[0-9]:|\}|\x1a)"
_SEPARATORS = "\x1e\x1d\x1c\x1f\x02\x04\x05\x06"


#: SWIFT allows 65 characters a line; files seen in practice run to a few hundred (an unwrapped
#: ``:86:``, a FinTS line). A longer line is not part of a bank statement (a 300 MB line once cost 7 GB).
MAX_LINE_CHARS = 10_000
#: A field is a tag line plus its continuation lines. The longest legal one, a DK ``:86:``, holds about
#: 1,000 characters (``?00``-``?63``); statement-level texts run to a few KB.
MAX_FIELD_CHARS = 100_000
#: Lines starting with a tag, and statements (``:20:``) in one file. Memory grows with them more than
#: with the bytes (every field is a row of several frames): a file of 1.46 million five-byte ``:61:``
#: fields (32 MiB) peaked at 0.85 GB, one of 2.8 million empty statements at 3.8 GB. 1,200,000 tag lines
#: is a 115 MiB file of 600,000 DK entries (over the default size limit); 100,000 statements is a year
#: of daily statements for 400 accounts.
MAX_TAG_LINES = 1_200_000
MAX_STATEMENTS = 100_000


def normalise(text: str) -> str:
    """Every line end as LF (CRLF, bare CR, and FinTS's ``@@``)."""
    if "\r" in text:
        text = text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")
    if "@@:" in text:  # FinTS (HIKAZ, pending.sta) separates lines with "@@"
        text = text.replace("@@", "\n")
    return text


def overlong(text: str) -> tuple[str, int, int] | None:
    """The first line longer than :data:`MAX_LINE_CHARS` or field (the text from a line starting with
    ``:`` to the next) longer than :data:`MAX_FIELD_CHARS`, as (what, line number, characters).

    ``text`` is :func:`normalise`'d. Such a file is no bank statement, and parsing it would cost memory
    many times its size (one row of the frames holding the whole stretch, copied by every step).

    >>> overlong(":20:A\\n:86:" + "x" * 20_000 + "\\n-")
    ('line', 2, 20004)
    >>> overlong(":20:A\\n:86:x\\n:61:1\\n") is None
    True
    """
    for what, sep, limit in (("line", "\n", MAX_LINE_CHARS), ("field", "\n:", MAX_FIELD_CHARS)):
        found = first_long_stretch(text, sep, limit)
        if found is not None:
            start, length = found
            return what, text.count("\n", 0, start) + 1, length
    return None


def tag_lines(text: str) -> int:
    """Lines starting with ``:``: the rows :func:`split_fields` would make, counted at C speed first.

    >>> tag_lines(":20:A\\n:25:B\\ntext\\n:28C:1")
    3
    """
    return text.count("\n:") + text.startswith(":")


def _pieces(text: str) -> pl.DataFrame:
    """The text (:func:`normalise`'d) cut before each line starting with ``:``; column ``chunk`` and its
    first ``line_no``."""
    free = []
    for c in _SEPARATORS:  # each test scans the whole text: stop at the two we need
        if c not in text:
            free.append(c)
            if len(free) == 2:
                break
    if len(free) < 2:  # pragma: no cover - the text holds every candidate control character
        text = text.translate({ord(c): " " for c in _SEPARATORS})
        free = list(_SEPARATORS)
    eol, sep = free[0], free[1]
    data = text.replace("\n:", eol + ":").encode("utf-8")
    del text
    if not data:
        return pl.DataFrame({"chunk": [""], "line_no": [1]}, schema={"chunk": pl.String, "line_no": pl.Int32})
    df = pl.read_csv(io.BytesIO(data), has_header=False, separator=sep, eol_char=eol, quote_char=None,
                     schema={"chunk": pl.String()})
    df = df.with_columns(pl.col("chunk").fill_null(""))  # an empty piece (file starting with "\n") is null
    nl = pl.col("chunk").str.count_matches("\n", literal=True).cast(pl.Int32) + 1
    return df.select("chunk", (nl.cum_sum() - nl + 1).alias("line_no"))


def split_fields(text: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fields and notes of an MT940/MT942 text, :func:`normalise`'d (the caller has checked its lines).

    ``fields``: ``stmt`` (ordinal of the statement), ``field_no``, ``tag`` (``?`` for an unknown
    tag), ``line_no``, ``content`` (text after the tag, continuation lines joined with ``\\n``).
    ``notes``: pieces outside any statement and unknown tags, as ``kind`` (``unknown``,
    ``outside_tag``, ``outside_text``), ``line_no``, ``raw``.
    """
    df = _pieces(text)
    chunk = pl.col("chunk")
    # One pass for "looks like a tag" and the tag itself (":61:…" -> "61").
    df = df.with_columns(chunk.str.extract(_LOOKS_LIKE_TAG, 1).alias("_tt"), chunk.str.contains(_END).alias("_ends"))
    df = df.with_columns(
        pl.when(pl.col("_tt").is_in(KNOWN_TAGS)).then(pl.col("_tt")).alias("_cand"),
        pl.col("_tt").is_not_null().alias("_looks"),
    ).drop("_tt")
    in_details = (pl.col("_cand").forward_fill().shift(1) == "86").fill_null(False)
    is_tag = pl.col("_cand").is_not_null() & ~(in_details & ~pl.col("_cand").is_in(AFTER_DETAILS))
    df = df.with_columns(
        pl.when(is_tag).then(pl.col("_cand")).alias("tag"),
        (pl.col("_looks") & ~is_tag & ~in_details).alias("_unknown"),
    )
    opened = pl.when(pl.col("tag") == "20").then(True).when(pl.col("_ends").shift(1)).then(False)
    df = df.with_columns(
        opened.forward_fill().fill_null(False).alias("_open"),
        (pl.col("tag") == "20").fill_null(False).cast(pl.Int32).cum_sum().sub(1).alias("_n20"),
    )
    notes = _notes(df)
    body = df.filter(pl.col("_open"))
    starts = pl.col("tag").is_not_null() | pl.col("_unknown") | (pl.col("_n20") != pl.col("_n20").shift(1))
    body = body.with_columns(
        starts.fill_null(True).cum_sum().alias("field_no"),
        pl.when(pl.col("tag").is_not_null())
        .then(chunk.str.slice(pl.col("tag").str.len_chars() + 2))
        .otherwise(chunk)
        .alias("content"),
        pl.when(pl.col("_unknown")).then(pl.lit("?")).otherwise(pl.col("tag")).alias("tag"),
        pl.col("_n20").alias("stmt"),
    ).select("stmt", "field_no", "tag", "line_no", "content", "_ends")
    body = _cut_at_end(body)
    return _glue(body), notes


def _cut_at_end(body: pl.DataFrame) -> pl.DataFrame:
    """Cut each piece that holds an end marker at the marker (few rows: one per message)."""
    rows = body.select(pl.arg_where(pl.col("_ends"))).to_series()
    if len(rows):
        content = body.get_column("content").clone()
        content.scatter(rows, content.gather(rows).str.replace(r"(?s)" + _END + ".*$", ""))
        body = body.with_columns(content)
    c = pl.col("content")
    return body.with_columns(pl.when(c.str.ends_with("\n")).then(c.str.strip_chars_end("\n")).otherwise(c)).drop(
        "_ends"
    )


def _glue(body: pl.DataFrame) -> pl.DataFrame:
    """Join continuation pieces (tag lookalikes inside :86:) to their field; none in most files."""
    if body["tag"].null_count() == 0:  # every piece starts a field: nothing to glue
        return body
    counts = body.group_by("field_no").len()
    multi = counts.filter(pl.col("len") > 1).select("field_no")
    joined = (
        body.join(multi, on="field_no", how="semi")
        .group_by("field_no")
        .agg(pl.col("stmt").first(), pl.col("tag").first(), pl.col("line_no").first(), pl.col("content"))
        .with_columns(pl.col("content").list.join("\n"))
    )
    single = body.join(multi, on="field_no", how="anti")
    cols = ["stmt", "field_no", "tag", "line_no", "content"]
    return pl.concat([single.select(cols), joined.select(cols)]).sort("field_no").with_columns(pl.col("tag").fill_null("?"))


def _notes(df: pl.DataFrame) -> pl.DataFrame:
    """Unknown tags, and non-blank text outside statements (incl. what follows an end marker)."""
    unknown = df.filter(pl.col("_open") & pl.col("_unknown")).select(
        pl.lit("unknown").alias("kind"), "line_no", pl.col("chunk").str.extract(r"^([^\n]*)", 1).alias("raw")
    )
    outside = df.filter(~pl.col("_open")).select(
        pl.when(pl.col("chunk").str.contains(r"^:[0-9]{2}[A-Z]?:"))  # not ":940:" (Rabobank header)
        .then(pl.lit("outside_tag"))
        .otherwise(pl.lit("outside_text"))
        .alias("kind"),
        "line_no",
        pl.col("chunk").alias("raw"),
    )
    tails = df.filter(pl.col("_open") & pl.col("_ends")).select(
        pl.lit("outside_text").alias("kind"),
        "line_no",
        pl.col("chunk").str.extract(r"(?s)" + _END + "(.*)$", 1).alias("raw"),
    )
    notes = pl.concat([unknown, outside, tails])
    # What is not worth a note: blank text, envelope lines, bare end markers.
    text = pl.col("raw").fill_null("").str.replace_all(r"(?m)^(?:[-{}].*|\s*)$", "").str.strip_chars()
    return notes.filter((pl.col("kind") != "outside_text") | (text.str.len_bytes() > 0)).sort("line_no")
