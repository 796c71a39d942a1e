"""What the three files of the enforcement office share: the schema, the XML rendering of frame columns, the
parties of a header, and the screening of a file read back (every error named with file, element, line).

The format is our own XML, one schema for three messages (``enforcement/schema/enforcement-1.xsd``,
namespace :data:`NAMESPACE`, attribute ``schemaVersion``): German public-sector interfaces are XML (XÖV,
XAmtshilfe, DOMAIN.md §5), and the pain files already go through lxml the same way (collection/xsd.py).
A reader that knows version 1.x reads every 1.x file (a minor version adds only optional elements); a
change an old reader cannot read gets a new namespace (``…:2``). Field by field: docs/ENFORCEMENT.md.

Writers render each element as text with Polars expressions (one string per row, no element tree and no
Python loop over the cases, as collection/pain_xml.py does), then validate the whole file against the
schema before they return it. Readers parse the file, validate it and split the errors: an error in the
header (or the root) rejects the file (:class:`EnforcementFileError`); an error inside one case, update or
outcome rejects that one item (a ``rejected`` row: file, line, element, case number, reason) and the
others are read.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path

import polars as pl
from lxml import etree

from collection.pain_xml import amount_expr, amount_text, esc, x

#: The namespace of format version 1; the root's ``schemaVersion`` says which 1.x wrote the file.
NAMESPACE = "urn:stadtkasse:enforcement:1"
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "enforcement-1.xsd"
#: The three messages (root element names).
HANDOFF, UPDATE, OUTCOMES = "Handoff", "Update", "Outcomes"
#: Columns of the rows a reader rejects.
REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(), "line": pl.Int64(), "element": pl.String(), "case_number": pl.String(),
    "item_id": pl.String(), "reason": pl.String()}
_NS = f"{{{NAMESPACE}}}"


class EnforcementFileError(ValueError):
    """A file (or an input frame) that cannot be written or read as a whole: which file, where, why."""

    def __init__(self, reason: str, *, file: str = "", element: str = "", line: int = 0,
                 case_number: str | None = None) -> None:
        self.reason, self.file, self.element, self.line, self.case_number = reason, file, element, line, case_number
        where = ", ".join(p for p in (file, f"line {line}" if line else "", element,
                                      f"case {case_number}" if case_number else "") if p)
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class Party:
    """A creditor, sender or receiver in a header. ``tenant``: the Stadtkasse tenant id when the party is one
    (an enforcement office of another municipality that runs Stadtkasse, issue 17 §4)."""

    name: str
    tenant: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    contact: tuple[str, ...] = ()

    def xml(self, tag: str, indent: int) -> str:
        pad = "  " * (indent + 1)
        fields = [("Name", self.name), ("Tenant", self.tenant), ("Street", self.street),
                  ("Postcode", self.postcode), ("City", self.city), *(("Contact", c) for c in self.contact)]
        inner = "".join(f"{pad}<{k}>{x(v)}</{k}>\n" for k, v in fields if v)
        return f"{'  ' * indent}<{tag}>\n{inner}{'  ' * indent}</{tag}>\n"

    @classmethod
    def from_xml(cls, element: etree._Element) -> Party:
        return cls(name=text(element, "Name") or "", tenant=text(element, "Tenant"), street=text(element, "Street"),
                   postcode=text(element, "Postcode"), city=text(element, "City"),
                   contact=tuple(c.text or "" for c in element.iterfind(f"{_NS}Contact")))


# --- writing ----------------------------------------------------------------------------------------------

def _pad(level: int) -> str:
    return "  " * level


def el(tag: str, value: pl.Expr, level: int) -> pl.Expr:
    """``<tag>value</tag>`` on its own line, escaped; null when ``value`` is null (see :func:`opt`)."""
    return pl.concat_str([pl.lit(f"{_pad(level)}<{tag}>"), esc(value.cast(pl.String)), pl.lit(f"</{tag}>\n")])


def opt(tag: str, value: pl.Expr, level: int) -> pl.Expr:
    """An optional element: left out where ``value`` is null."""
    return el(tag, value, level).fill_null("")


def date_el(tag: str, value: pl.Expr, level: int) -> pl.Expr:
    return el(tag, value.dt.to_string("%Y-%m-%d"), level)


def amount_el(tag: str, cents: pl.Expr, level: int) -> pl.Expr:
    """Cents as euros with two decimals (``1234`` -> ``12.34``); cents are checked non-negative first."""
    return pl.concat_str([pl.lit(f"{_pad(level)}<{tag}>"), amount_expr(cents), pl.lit(f"</{tag}>\n")])


def open_tag(tag: str, level: int) -> pl.Expr:
    return pl.lit(f"{_pad(level)}<{tag}>\n")


def close_tag(tag: str, level: int) -> pl.Expr:
    return pl.lit(f"{_pad(level)}</{tag}>\n")


def header_line(tag: str, value: str | int, level: int = 2) -> str:
    return f"{_pad(level)}<{tag}>{x(str(value))}</{tag}>\n"


def euros(cents: int) -> str:
    """One amount in cents as the file's decimal text (``amount_text``: 5 -> ``0.05``)."""
    if cents < 0:
        raise ValueError(f"negative amount {cents} cents: the files carry only amounts of 0.00 or more")
    return amount_text(cents)


def created_text(created: datetime) -> str:
    return created.isoformat(timespec="seconds")


def document(root: str, header: str, items: pl.Series) -> bytes:
    """The whole file: declaration, root with namespace and version, the header, the rendered items."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>\n<{root} xmlns="{NAMESPACE}" schemaVersion="{SCHEMA_VERSION}">\n'
    body = items.str.join("").item() if items.len() else ""
    return (head + header + body + f"</{root}>\n").encode("utf-8")


def check_input(frame: pl.DataFrame, name: str, required: Mapping[str, pl.DataType],
                optional: Mapping[str, pl.DataType] | None = None, *, amounts: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with exactly the columns a writer uses, cast to their types (optional ones added as nulls).

    Raises :class:`EnforcementFileError` naming the frame for a missing column, a null in a required column
    or a negative amount; everything else (lengths, characters, choices) the schema checks on the file."""
    optional = optional or {}
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise EnforcementFileError(f"{name}: missing column(s) {', '.join(missing)}")
    try:
        out = frame.select([pl.col(c).cast(t) for c, t in required.items()]
                           + [(pl.col(c) if c in frame.columns else pl.lit(None)).cast(t).alias(c)
                              for c, t in optional.items()])
    except pl.exceptions.PolarsError as exc:
        raise EnforcementFileError(f"{name}: a column has the wrong type: {exc}") from exc
    nulls = {c: n for c, n in out.select(pl.col(list(required)).null_count()).row(0, named=True).items() if n}
    if nulls:
        raise EnforcementFileError(f"{name}: null values in required column(s) {nulls}")
    for c in amounts:
        if out.filter(pl.col(c) < 0).height:
            raise EnforcementFileError(f"{name}: negative amounts in {c}")
    return out


def validate_written(data: bytes, *, file: str, item: str) -> None:
    """Validate a file a writer made; the first error raises, naming the element and its case or update."""
    try:
        tree = etree.parse(io.BytesIO(data), etree.XMLParser(huge_tree=True))
    except etree.XMLSyntaxError as exc:     # a control character in a text column: not XML at all
        raise EnforcementFileError(f"not well-formed XML: {exc.msg}", file=file, line=exc.lineno or 0) from exc
    xsd = schema()
    if xsd.validate(tree):
        return
    entry = xsd.error_log[0]
    element = _element_at(tree, entry.path)
    owner = _item_of(element, item) if element is not None else None
    raise EnforcementFileError(_reason(entry.message), file=file, line=entry.line,
                               element=readable_path(element) if element is not None else "",
                               case_number=text(owner, "CaseNumber") if owner is not None else None)


# --- reading ----------------------------------------------------------------------------------------------

@cache
def schema() -> etree.XMLSchema:
    """The compiled schema of format version 1 (package data, loaded once)."""
    path = Path(str(resources.files("enforcement") / "schema" / SCHEMA_FILE))
    return etree.XMLSchema(etree.parse(str(path)))


def text(element: etree._Element | None, tag: str) -> str | None:
    """The text of a child element (``None`` when it is missing)."""
    if element is None:
        return None
    found = element.find(f"{_NS}{tag}")
    return None if found is None else (found.text or "")


def day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def cents(value: str | None) -> int | None:
    """The file's decimal euros as integer cents (``12.34`` -> ``1234``); the schema allows two decimals."""
    if value is None:
        return None
    try:
        amount = Decimal(value) * 100
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if amount != amount.to_integral_value():
        raise ValueError(f"more than two decimals: {value!r}")
    return int(amount)


def readable_path(element: etree._Element) -> str:
    """``Outcome[3]/Fee[2]/Amount``: local names, with 1-based positions of repeated elements.

    lxml's ``getelementpath`` counts the siblings in C (a Python scan of 100,000 sibling messages per
    rejected one made a file with a few thousand bad records take minutes); it writes Clark names
    (``{urn:…}Fee[2]``), whose namespaces are dropped here, and ``.`` for the root."""
    path = re.sub(r"\{[^}]*\}", "", element.getroottree().getelementpath(element))
    return etree.QName(element).localname if path == "." else path


def _reason(message: str) -> str:
    """The schema's message without the namespace in braces (``{urn:…}Code`` -> ``Code``)."""
    return message.replace(_NS, "")


def _element_at(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    found = tree.xpath(path) if path else []
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None


def _item_of(element: etree._Element, item: str) -> etree._Element | None:
    """The top-level item (``Case``, ``CaseUpdate``, ``Outcome``) an element belongs to, else None."""
    for node in (element, *element.iterancestors()):
        if node.tag == f"{_NS}{item}" and node.getparent() is not None and node.getparent().getparent() is None:
            return node
    return None


@dataclass(frozen=True)
class Screened:
    """A parsed, schema-checked file: its root, the header, the items without an error, and one rejected
    row per item with errors (their reasons joined)."""

    file: str
    root: etree._Element
    header: etree._Element
    items: list[etree._Element]
    rejected: list[dict[str, object]]
    count_in: int


def screen(source: bytes | Path, *, kind: str, item: str, file: str | None = None) -> Screened:
    """Parse and validate a file of message ``kind``; reject the whole file for a problem in its root or
    header, and only the affected ``item`` elements for problems inside them."""
    name = file or (source.name if isinstance(source, Path) else "<bytes>")
    try:
        tree = etree.parse(io.BytesIO(source) if isinstance(source, bytes) else str(source),
                           etree.XMLParser(huge_tree=True, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise EnforcementFileError(f"not well-formed XML: {exc.msg}", file=name, line=exc.lineno or 0) from exc
    root = tree.getroot()
    if root.tag != f"{_NS}{kind}":
        raise EnforcementFileError(f"expected a {kind} message in namespace {NAMESPACE}, found {root.tag}",
                                   file=name, element=etree.QName(root).localname, line=root.sourceline or 0)
    xsd = schema()
    bad: dict[etree._Element, list[tuple[int, str, str]]] = {}
    if not xsd.validate(tree):
        for entry in xsd.error_log:
            element = _element_at(tree, entry.path)
            owner = _item_of(element, item) if element is not None else None
            where = readable_path(element) if element is not None else ""
            if owner is None:          # the root or the header: nothing in the file can be trusted
                raise EnforcementFileError(_reason(entry.message), file=name, element=where, line=entry.line)
            bad.setdefault(owner, []).append((entry.line, where, _reason(entry.message)))
    items = list(root.iterfind(f"{_NS}{item}"))
    header = root.find(f"{_NS}Header")
    assert header is not None                       # the schema requires it
    rejected = [reject_row(name, owner, errors) for owner, errors in bad.items()]
    return Screened(name, root, header, [i for i in items if i not in bad], rejected, len(items))


def reject_row(file: str, owner: etree._Element, errors: list[tuple[int, str, str]],
               item_id: str | None = None) -> dict[str, object]:
    """One rejected item: the first error's line and element, every reason."""
    line, where, _ = errors[0]
    return {"file": file, "line": line, "element": where, "case_number": text(owner, "CaseNumber"),
            "item_id": item_id, "reason": "; ".join(f"{w}: {r}" if w else r for _, w, r in errors)}


def rejected_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=REJECTED_SCHEMA, orient="row") if rows else pl.DataFrame(schema=REJECTED_SCHEMA)


def check_counts(screened: Screened, expected: int, tag: str) -> None:
    """The header's count against the items in the file: a mismatch means a cut or padded file."""
    if expected != screened.count_in:
        counts = screened.header.find(f"{_NS}Counts")
        raise EnforcementFileError(
            f"the header counts {expected} {tag} elements, the file holds {screened.count_in}", file=screened.file,
            element=f"Header/Counts/{tag}", line=counts.sourceline or 0 if counts is not None else 0)


def check_sum(screened: Screened, path: str, expected_cents: int, actual_cents: int) -> None:
    """A control sum of the header against the file's items."""
    if expected_cents != actual_cents:
        raise EnforcementFileError(
            f"control sum {euros(expected_cents)} differs from the items' sum {euros(actual_cents)}",
            file=screened.file, element=f"Header/ControlSums/{path}", line=screened.header.sourceline or 0)
