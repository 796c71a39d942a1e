"""Entry text as lxml would write it, from entry text as the bank wrote it (for ``camt_fast``).

The fields are cut out of entry text by regular expressions that expect lxml's serialisation (see
``camt_fields``), and ``raw`` must be the same whichever path read the file. Banks write the same
XML in many ways, so the byte-level path brings each entry to lxml's form first, column-wise:

* rows already in that form (nearly all, in most files) are found by one regular expression and left alone;
* the usual differences are rewritten with Polars: comments and processing instructions dropped (the
  element path's parser drops them too), character references (``&#228;``, ``&#xFC;``) decoded,
  ``&quot;``/``&apos;`` in text written as the characters, blanks inside tags removed, and empty
  elements written ``<X></X>`` turned into ``<X/>``;
* whatever is then still not in lxml's form (CDATA, a reference inside an attribute value, single
  quotes, a raw ``>`` in text, a namespace declaration inside an entry, ...) goes through lxml itself:
  those rows, and only those, are parsed and serialised with the element path's parser options.

So every row ends in exactly the text the element path would give, and the per-row lxml work is
paid only by rows that need it. The rewrite assumes well-formed XML (``<X></X>`` is one element):
``camt_fast`` checks that on the side and drops everything if the file is not.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

import polars as pl
from lxml import etree

#: anything in an entry's text that lxml would write differently; a row without it is left alone
NOT_CANONICAL = "|".join((
    r"<!", r"<\?", r"xmlns", r"&#", r"&quot;", r"&apos;",  # comments, CDATA, PIs, declarations, references
    r">[^<>]*>",  # '>' in text or in an attribute value (lxml writes &gt;)
    r"[ \t\n]/?>", r"<[\w.:-]+(?:[ \t\n][ \t\n]|[\t\n])", r'"(?:[ \t\n][ \t\n]|[\t\n])',  # layout inside tags
    r"[ \t\n]=|=[ \t\n']",  # spaces around '=', single quotes
    r'="[^"<>]*[\t\n]',  # attribute values are normalised by the parser
    r'<[\w.:-]+(?: [\w.:-]+="[^"<>]*")*></',  # <X></X> is written as <X/>
))
#: an entry inside an entry (or an entry tag the split did not see): the byte-level path cannot cut it
NESTED_ENTRY = r"</?(?:[\w.-]+:)?Ntry[ \t\n/>]"
_CDATA = "<![CDATA["
_IN_TAG_REFERENCE = r"<[^<>]*&"  # an attribute value with a reference: its decoding differs from text's
_COMMENT_OR_PI = r"<!--(?s:.*?)-->|<\?(?s:.*?)\?>"
_CHAR_REF = r"&#(?:[0-9]+|x[0-9a-fA-F]+);"
_END_TAG_BLANKS = (r"</([\w.:-]+)[ \t\n]+>", "</$1>")
_START_TAG_BLANKS = (r"<([\w.:-]+)[ \t\n]+(/?)>", "<$1$2>")
_ONE_ATTRIBUTE = (r'<([\w.:-]+)[ \t\n]+([\w.:-]+)[ \t\n]*=[ \t\n]*"([^"<>&\t\n]*)"[ \t\n]*(/?)>', '<$1 $2="$3"$4>')
_OPEN_CLOSE = (r'<([\w.:-]+)((?: [\w.:-]+="[^"<>]*")*)></[\w.:-]+>', "<$1$2/>")
#: a tag exactly as lxml writes it (attribute values without references: those went to lxml)
_LXML_TAG = r'</[\w.:-]+>|<[\w.:-]+(?: [\w.:-]+="(?:[^"<>&\t\n]|&(?:amp|lt|gt);)*")*/?>'
#: what lxml writes for a character in text that is not written as itself
_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
#: the element path's parser options (``camt_stream.stream``)
_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False, "remove_comments": True,
                   "remove_pis": True, "huge_tree": False}


class NotCanonical(Exception):
    """The entries cannot be brought to lxml's form here (the reason is the message)."""


def canonical_bodies(body: pl.Series, prefix: str, namespaces: Mapping[str, str]) -> pl.Series:
    """Entry contents (between ``<{prefix}Ntry>`` and ``</{prefix}Ntry>``) as lxml would serialise them.

    ``namespaces`` (prefix -> URI, ``""`` for the default) are the declarations in scope, for the rows
    that go through lxml. Raises :class:`NotCanonical` for an entry nested in an entry.
    """
    odd = body.str.contains(NOT_CANONICAL)
    n_odd = odd.sum()
    if not n_odd:
        return body
    if n_odd == body.len():  # a whole file written another way: no filtering and scattering back
        return _canonical(body, prefix, namespaces).alias(body.name)
    at = odd.arg_true()
    return body.scatter(at, _canonical(body.gather(at), prefix, namespaces)).alias(body.name)


def _canonical(body: pl.Series, prefix: str, namespaces: Mapping[str, str]) -> pl.Series:
    """:func:`canonical_bodies` for rows that are not in lxml's form.

    Every rewrite runs only when some row needs it (found by a literal search where one exists), and
    the tag rewrites only on the rows still odd after the text ones: a file written another way from
    end to end costs a few passes, not a dozen. Rows for lxml get the rewrites too, harmlessly: their
    text is replaced by lxml's from the original.
    """
    if body.str.contains(NESTED_ENTRY).any():
        raise NotCanonical("an Ntry element inside an Ntry element")
    hard = body.str.contains(_CDATA, literal=True)
    amp = body.str.contains("&", literal=True)
    if amp.any():
        at = amp.arg_true()
        in_tag = body.gather(at).str.contains(_IN_TAG_REFERENCE)
        hard = hard | pl.Series([False] * body.len()).scatter(at, in_tag)
    out = _text_rewritten(body)
    still = out.str.contains(NOT_CANONICAL) & ~hard
    if still.any():
        at = still.arg_true()
        tags = _tags_rewritten(out.gather(at))
        out = out.scatter(at, tags)
        odd = tags.str.contains(NOT_CANONICAL)
        if odd.any():  # most only hold text that looks like a tag's layout ("a = b"): the exact check
            odd_at = at.gather(odd.arg_true())
            exact = out.gather(odd_at).to_frame("body").select(_lxml_form(pl.col("body"))).to_series()
            hard = hard.scatter(odd_at, ~exact)
    if hard.any():
        at = hard.arg_true()
        out = out.scatter(at, pl.Series(through_lxml(body.gather(at).to_list(), prefix, namespaces), dtype=pl.String))
    return out


def _text_rewritten(body: pl.Series) -> pl.Series:
    """Comments and processing instructions dropped, references in text decoded (rows with a reference
    inside a tag are left to lxml by the caller)."""
    out = body
    if body.str.contains("<!--", literal=True).any() or body.str.contains("<?", literal=True).any():
        out = out.str.replace_all(_COMMENT_OR_PI, "")
    if out.str.contains("&#", literal=True).any():
        refs = out.str.extract_all(_CHAR_REF).explode().drop_nulls().unique().to_list()
        out = out.str.replace_many(refs, [_decoded(r) for r in refs])
    if out.str.contains("&quot;", literal=True).any() or out.str.contains("&apos;", literal=True).any():
        out = out.str.replace_many(["&quot;", "&apos;"], ['"', "'"])
    return out


def _tags_rewritten(body: pl.Series) -> pl.Series:
    """Blanks inside tags removed (one attribute at most), ``<X></X>`` written ``<X/>``."""
    out = body
    for pattern, replacement in (_END_TAG_BLANKS, _START_TAG_BLANKS, _ONE_ATTRIBUTE, _OPEN_CLOSE):
        out = out.str.replace_all(pattern, replacement)
    return out


def _decoded(reference: str) -> str:
    """A character reference as lxml writes its character in text."""
    char = html.unescape(reference)
    return _TEXT_ESCAPES.get(char, char)


def _lxml_form(text: pl.Expr) -> pl.Expr:
    """True where every tag is written as lxml writes it and the text holds no raw '>' or odd reference."""
    tags = text.str.count_matches("<", literal=True)
    return (
        (text.str.count_matches(_LXML_TAG) == tags)
        & (text.str.count_matches(">", literal=True) == tags)
        & ~text.str.contains(r"&(?:quot|apos|#)|xmlns|\r")
    )


def through_lxml(bodies: list[str], prefix: str, namespaces: Mapping[str, str]) -> list[str]:
    """Entry contents parsed and serialised by lxml, as the element path does it (exact by construction)."""
    tag = f"{prefix}Ntry"
    declared = "".join(f' xmlns{":" + p if p else ""}="{html.escape(uri)}"' for p, uri in namespaces.items())
    document = f"<W{declared}>" + "".join(f"<{tag}>{b}</{tag}>" for b in bodies) + "</W>"
    try:
        root = etree.fromstring(document, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError as exc:
        raise NotCanonical(f"an entry lxml cannot read on its own ({exc.msg})") from exc
    if len(root) != len(bodies):
        raise NotCanonical("an entry lxml reads as more or fewer elements")
    out: list[str] = []
    for el in root:
        written = etree.tostring(el, encoding="unicode", with_tail=False)
        start = written.index(">") + 1
        out.append("" if written.endswith("/>") and start == len(written) else written[start: written.rindex("</")])
    return out


_DECLARATION = re.compile(r"""xmlns(?::([\w.-]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def declarations(text: str) -> dict[str, str]:
    """Namespace declarations written in ``text`` (prefix -> URI; the default namespace under ``""``)."""
    return {m.group(1) or "": html.unescape(m.group(2) if m.group(2) is not None else m.group(3))
            for m in _DECLARATION.finditer(text)}
