"""Our XML for enforcement requests between authorities (format version 1, ``amtshilfe/schema/amtshilfe-1.xsd``,
namespace :data:`NAMESPACE`; docs/AMTSHILFE.md "Formats").

Two files mirror the XAmtshilfe life cycle (DOMAIN.md §5): **Requests** — what a requesting creditor sends
(``Ersuchen`` .100, ``ErsuchenAenderung`` .101, ``ErsuchenAussetzung`` .102, ``ErsuchenRuecknahme`` .103,
many in one delivery) — and **Answers** — what the enforcement authority sends back
(``ErsuchenRueckgabe`` .104, ``Sachstand`` = XAmtshilfe's Aktion .105, ``Information`` .999). Each has a
header with sender, receiver, counts and a control sum.

The real XAmtshilfe schema (version 1.1.0, namespace ``xAmtshilfe110``, on XFinanz building blocks) was not
available when this was written, so this is our own format; :data:`XAMTSHILFE` keeps each message's
XAmtshilfe name and number so that an adapter for the real standard (namespace and code-list versions as
configuration) can map our frames onto it later without touching the model.

Writers build the tree with lxml (volumes are 10³–10⁴ messages a delivery, DOMAIN.md §4.5, so a tree is
small; lxml escapes every text) and validate the whole file against the schema before they return it;
a frame the schema refuses raises :class:`AmtshilfeFileError`. Readers parse securely (no DTD, no
entities, no network: a file with a DOCTYPE is refused), validate, and split the errors: the file is
refused as a whole when it is not XML, has another root or namespace, a broken header, or counts or a
control sum that differ from its messages (a cut or padded file); one message with an error is
**rejected** (a row: file, line, element path, message kind and id, the creditor's file number, reason)
and the others are read, so ``count_in == read + rejected.height``.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from lxml import etree

from amtshilfe.model import (
    Answers,
    Body,
    Change,
    CostItem,
    Header,
    Information,
    Notice,
    Request,
    Requests,
    Rueckgabe,
    Sachstand,
    answers,
    columns,
    requests,
)
from claims.vocab import ErsuchenFeedback, ErsuchenMessage
from enforcement.file_format import euros, readable_path

#: The namespace of format version 1; the root's ``schemaVersion`` says which 1.x wrote the file.
NAMESPACE = "urn:stadtkasse:amtshilfe:1"
SCHEMA_VERSION = "1.0"
SCHEMA_FILE = "amtshilfe-1.xsd"
#: The two files (root elements).
REQUESTS, ANSWERS = "Requests", "Answers"
#: Our element per message kind, and the XAmtshilfe message it stands for (DOMAIN.md §5; for an adapter).
ELEMENT: dict[ErsuchenMessage, str] = {
    ErsuchenMessage.ERSUCHEN: "Ersuchen",
    ErsuchenMessage.AENDERUNG: "ErsuchenAenderung",
    ErsuchenMessage.AUSSETZUNG: "ErsuchenAussetzung",
    ErsuchenMessage.RUECKNAHME: "ErsuchenRuecknahme",
    ErsuchenMessage.RUECKGABE: "ErsuchenRueckgabe",
    ErsuchenMessage.SACHSTAND: "Sachstand",
    ErsuchenMessage.INFORMATION: "Information",
}
XAMTSHILFE: dict[ErsuchenMessage, str] = {
    ErsuchenMessage.ERSUCHEN: "vollstreckungshilfe.Ersuchen.100",
    ErsuchenMessage.AENDERUNG: "vollstreckungshilfe.ErsuchenAenderung.101",
    ErsuchenMessage.AUSSETZUNG: "vollstreckungshilfe.ErsuchenAussetzung.102",
    ErsuchenMessage.RUECKNAHME: "vollstreckungshilfe.ErsuchenRuecknahme.103",
    ErsuchenMessage.RUECKGABE: "vollstreckungshilfe.ErsuchenRueckgabe.104",
    ErsuchenMessage.SACHSTAND: "vollstreckungshilfe.Aktion.105",
    ErsuchenMessage.INFORMATION: "vollstreckungshilfe.Information.999",
}
_KIND = {v: k for k, v in ELEMENT.items()}
#: Columns of the rows a reader rejects.
REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "file": pl.String(), "line": pl.Int64(), "element": pl.String(), "message": pl.String(),
    "message_id": pl.String(), "creditor_file_number": pl.String(), "reason": pl.String()}
_NS = f"{{{NAMESPACE}}}"


class AmtshilfeFileError(ValueError):
    """A file that cannot be read (or frames that cannot be written) as a whole: which file, where, why."""

    def __init__(self, reason: str, *, file: str = "", element: str = "", line: int = 0) -> None:
        self.reason, self.file, self.element, self.line = reason, file, element, line
        where = ", ".join(p for p in (file, f"line {line}" if line else "", element) if p)
        super().__init__(f"{where}: {reason}" if where else reason)


@dataclass(frozen=True)
class RequestsRead:
    header: Header
    data: Requests
    rejected: pl.DataFrame
    count_in: int


@dataclass(frozen=True)
class AnswersRead:
    header: Header
    data: Answers
    rejected: pl.DataFrame
    count_in: int


@cache
def schema() -> etree.XMLSchema:
    """The compiled schema of format version 1 (package data, loaded once)."""
    path = Path(str(resources.files("amtshilfe") / "schema" / SCHEMA_FILE))
    return etree.XMLSchema(etree.parse(str(path)))


# --- writing ----------------------------------------------------------------------------------------------

def _sub(parent: etree._Element, tag: str, value: object) -> None:
    """A child element with ``value`` as text; nothing when ``value`` is None."""
    if value is None:
        return
    if isinstance(value, date):
        value = value.isoformat()
    etree.SubElement(parent, f"{_NS}{tag}").text = str(value)


def _amount(parent: etree._Element, tag: str, cents: int) -> None:
    etree.SubElement(parent, f"{_NS}{tag}").text = euros(cents)


def _body(parent: etree._Element, tag: str, body: Body) -> None:
    el = etree.SubElement(parent, f"{_NS}{tag}")
    for t, v in (("Name", body.name), ("AuthorityId", body.authority_id), ("Street", body.street),
                 ("Postcode", body.postcode), ("City", body.city)):
        _sub(el, t, v)


def _root(kind: str, header: Header, messages: int, sub_count: tuple[str, int], control_cents: int) -> etree._Element:
    root = etree.Element(f"{_NS}{kind}", nsmap={None: NAMESPACE}, schemaVersion=SCHEMA_VERSION)
    h = etree.SubElement(root, f"{_NS}Header")
    _sub(h, "MessageId", header.message_id)
    _sub(h, "Created", header.created.isoformat(timespec="seconds"))
    _body(h, "Sender", header.sender)
    _body(h, "Receiver", header.receiver)
    counts = etree.SubElement(h, f"{_NS}Counts")
    _sub(counts, "Messages", messages)
    _sub(counts, *sub_count)
    _amount(h, "ControlSum", control_cents)
    return root


def _ref(parent: etree._Element, row: dict[str, Any]) -> None:
    el = etree.SubElement(parent, f"{_NS}Creditor")
    _sub(el, "AuthorityId", row["creditor_id"])
    _sub(el, "FileNumber", row["creditor_file_number"])


def _debtor(parent: etree._Element, row: dict[str, Any], *, always: bool) -> None:
    address = [row["debtor_street"], row["debtor_postcode"], row["debtor_city"], row["debtor_country"]]
    if not always and row["debtor_name"] is None and row["debtor_given_name"] is None and row[
            "debtor_birth_date"] is None and not any(v is not None for v in address):
        return
    d = etree.SubElement(parent, f"{_NS}Debtor")
    _sub(d, "Name", row["debtor_name"])
    _sub(d, "GivenName", row["debtor_given_name"])
    _sub(d, "BirthDate", row.get("debtor_birth_date"))
    if any(v is not None for v in address):
        a = etree.SubElement(d, f"{_NS}Address")
        for t, v in zip(("Street", "Postcode", "City", "Country"), address, strict=True):
            _sub(a, t, v)


def _notices(parent: etree._Element, rows: Iterable[dict[str, Any]]) -> None:
    for n in rows:
        el = etree.SubElement(parent, f"{_NS}Notice")
        _sub(el, "Date", n["notice_date"])
        _sub(el, "Authority", n["notice_authority"])
        _sub(el, "FileNumber", n["notice_file_number"])
        _sub(el, "PeriodFrom", n["period_from"])
        _sub(el, "PeriodTo", n["period_to"])
        _amount(el, "Principal", n["principal_cents"])
        _amount(el, "Surcharges", n["surcharge_cents"])
        _amount(el, "Costs", n["costs_cents"])


def _by_message(frame: pl.DataFrame) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in frame.sort("message_id", "position", maintain_order=True).iter_rows(named=True):
        out[row["message_id"]].append(row)
    return out


def _writer_checks(file: str, ids: Sequence[pl.Series], problems: Iterable[tuple[pl.DataFrame, str]]) -> None:
    """Refuse frames the schema cannot judge: a message id twice, and the rules of :func:`_problems`."""
    all_ids = pl.concat([s.cast(pl.String) for s in ids]) if ids else pl.Series([], dtype=pl.String)
    twice = all_ids.filter(all_ids.is_duplicated()).unique().sort().to_list()
    if twice:
        raise AmtshilfeFileError(f"message id(s) {twice[:3]} used more than once", file=file)
    for bad, reason in problems:
        if bad.height:
            raise AmtshilfeFileError(f"{reason}: message(s) {bad['message_id'].head(3).to_list()}", file=file)


def _finish(root: etree._Element, file: str) -> bytes:
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    tree = etree.parse(io.BytesIO(data), _parser())
    xsd = schema()
    if not xsd.validate(tree):
        entry = xsd.error_log[0]
        element = _element_at(tree, entry.path)
        raise AmtshilfeFileError(_reason(entry.message), file=file, line=entry.line,
                                 element=readable_path(element) if element is not None else "")
    return data


def write_requests(header: Header, data: Requests, *, file: str = "requests.xml") -> bytes:
    """The Requests file (a creditor's delivery; also ours for requests going out, issue 18 §4): every
    request with its notices, then every change, in frame order; validated before it is returned."""
    data = requests(data.requests, data.notices, data.changes)
    notices = _by_message(data.notices)
    n = data.notices
    _writer_checks(file, [data.requests["message_id"], data.changes["message_id"]], [
        (n.filter(pl.col("period_from") > pl.col("period_to")), "a notice's period ends before it starts"),
        (n.join(pl.concat([data.requests["message_id"], data.changes.filter(
            pl.col("message") == ErsuchenMessage.AENDERUNG)["message_id"]]).to_frame(), on="message_id",
            how="anti"), "notices of no request or change"),
        (data.changes.filter(pl.col("suspended_until") < pl.col("message_date")),
         "suspended until a day before the message"),
        (data.changes.filter((pl.col("message") != ErsuchenMessage.AUSSETZUNG) & pl.col("suspended_until").is_not_null()),
         "suspended_until on a message that is no Aussetzung")])
    total = int(n.select(pl.sum_horizontal("principal_cents", "surcharge_cents", "costs_cents").sum()).item() or 0)
    root = _root(REQUESTS, header, data.requests.height + data.changes.height, ("Notices", n.height), total)
    for r in data.requests.iter_rows(named=True):
        m = etree.SubElement(root, f"{_NS}Ersuchen")
        _sub(m, "MessageId", r["message_id"])
        c = etree.SubElement(m, f"{_NS}Creditor")
        for t, key in (("Name", "creditor_name"), ("AuthorityId", "creditor_id"), ("FileNumber", "creditor_file_number"),
                       ("Street", "creditor_street"), ("Postcode", "creditor_postcode"), ("City", "creditor_city"),
                       ("Iban", "creditor_iban"), ("Bic", "creditor_bic"), ("PaymentReference", "payment_reference")):
            _sub(c, t, r[key])
        _sub(m, "RequestDate", r["request_date"])
        _debtor(m, r, always=True)
        _notices(m, notices.get(r["message_id"], []))
        if r["enforceable_statement"] is not None:
            e = etree.SubElement(m, f"{_NS}Enforceability")
            _sub(e, "Statement", r["enforceable_statement"])
            _sub(e, "Date", r["enforceable_date"])
        elif r["enforceable_date"] is not None:
            raise AmtshilfeFileError(f"an enforceability date without the statement: message {r['message_id']}",
                                     file=file)
    for r in data.changes.iter_rows(named=True):
        m = etree.SubElement(root, f"{_NS}{ELEMENT[ErsuchenMessage(r['message'])]}")
        _sub(m, "MessageId", r["message_id"])
        _ref(m, r)
        _sub(m, "Date", r["message_date"])
        if r["message"] != ErsuchenMessage.AENDERUNG and any(
                r[k] is not None for k in ("debtor_name", "debtor_given_name", "debtor_birth_date", "debtor_street",
                                           "debtor_postcode", "debtor_city", "debtor_country")):
            raise AmtshilfeFileError(f"a new debtor on a message that is no Aenderung: message {r['message_id']}",
                                     file=file)
        if r["message"] == ErsuchenMessage.AENDERUNG:
            _debtor(m, r, always=False)
            _notices(m, notices.get(r["message_id"], []))
        elif r["message"] == ErsuchenMessage.AUSSETZUNG:
            _sub(m, "Until", r["suspended_until"])
        _sub(m, "Note", r["note"])
    return _finish(root, file)


def write_answers(header: Header, data: Answers, *, file: str = "answers.xml") -> bytes:
    """The Answers file (our feedback to one creditor, issue 18 §3): returns, status reports (a cost
    invoice with its items) and information, in that order and frame order; validated before it is
    returned."""
    data = answers(data.rueckgaben, data.sachstand, data.cost_items, data.information)
    s, items = data.sachstand, data.cost_items
    code = pl.col("code")
    invoice = code == ErsuchenFeedback.COST_INVOICE
    _writer_checks(file, [data.rueckgaben["message_id"], s["message_id"], data.information["message_id"]], [
        (s.filter(~invoice & pl.col("creditor_file_number").is_null()), "a status report that names no request"),
        (s.filter((code == ErsuchenFeedback.PAYMENT_FORWARDED)
                  & (pl.col("amount_cents").is_null() | pl.col("paid_on").is_null())),
         "payment_forwarded without its amount and day"),
        (s.filter((code != ErsuchenFeedback.PAYMENT_FORWARDED)
                  & (pl.col("amount_cents").is_not_null() | pl.col("paid_on").is_not_null())),
         "an amount paid on a status report that is no payment_forwarded"),
        (s.filter(invoice & (pl.col("period_from").is_null() | pl.col("period_to").is_null()
                             | (pl.col("period_from") > pl.col("period_to")))), "cost_invoice without a valid period"),
        (s.filter(invoice).join(items, on="message_id", how="anti"), "cost_invoice without items"),
        (s.filter(~invoice & (pl.col("period_from").is_not_null() | pl.col("period_to").is_not_null())),
         "a period on a status report that is no cost_invoice"),
        (items.join(s.filter(invoice), on="message_id", how="anti"), "cost items of no cost_invoice"),
        *((f.filter(pl.col("creditor_file_number").is_null() & pl.col("creditor_id").is_not_null()),
           "a creditor id without a file number (the file's receiver is the creditor)") for f in (s, data.information))])
    total = int(s["amount_cents"].sum() or 0) + int(items["amount_cents"].sum() or 0)
    count = data.rueckgaben.height + s.height + data.information.height
    root = _root(ANSWERS, header, count, ("CostItems", items.height), total)
    for r in data.rueckgaben.iter_rows(named=True):
        m = etree.SubElement(root, f"{_NS}ErsuchenRueckgabe")
        _sub(m, "MessageId", r["message_id"])
        _ref(m, r)
        for t, key in (("CaseNumber", "case_number"), ("Date", "message_date"), ("Reason", "reason"), ("Text", "text"),
                       ("CompetentAuthority", "competent_authority")):
            _sub(m, t, r[key])
    per_invoice = _by_message(items)
    for r in s.iter_rows(named=True):
        m = etree.SubElement(root, f"{_NS}Sachstand")
        _sub(m, "MessageId", r["message_id"])
        if r["creditor_file_number"] is not None:
            _ref(m, r)
        _sub(m, "CaseNumber", r["case_number"])
        _sub(m, "Date", r["message_date"])
        _sub(m, "Code", r["code"])
        if r["amount_cents"] is not None:
            p = etree.SubElement(m, f"{_NS}Payment")
            _amount(p, "Amount", r["amount_cents"])
            _sub(p, "Date", r["paid_on"])
        if r["code"] == ErsuchenFeedback.COST_INVOICE:
            inv = etree.SubElement(m, f"{_NS}Invoice")
            _sub(inv, "PeriodFrom", r["period_from"])
            _sub(inv, "PeriodTo", r["period_to"])
            for item in per_invoice[r["message_id"]]:
                i = etree.SubElement(inv, f"{_NS}Item")
                _sub(i, "FileNumber", item["creditor_file_number"])
                _sub(i, "Kind", item["kind"])
                _sub(i, "Description", item["description"])
                _amount(i, "Amount", item["amount_cents"])
        _sub(m, "Note", r["note"])
    for r in data.information.iter_rows(named=True):
        m = etree.SubElement(root, f"{_NS}Information")
        _sub(m, "MessageId", r["message_id"])
        if r["creditor_file_number"] is not None:
            _ref(m, r)
        _sub(m, "CaseNumber", r["case_number"])
        _sub(m, "Date", r["message_date"])
        _sub(m, "Text", r["text"])
    return _finish(root, file)


# --- reading ----------------------------------------------------------------------------------------------

def _parser() -> etree.XMLParser:
    """A parser that loads nothing from outside and expands no entity (XXE, billion laughs)."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False)


def _reason(message: str) -> str:
    return message.replace(_NS, "")


def _element_at(tree: etree._ElementTree, path: str | None) -> etree._Element | None:
    found = tree.xpath(path) if path else []
    return found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None


class _Paths:
    """Elements of a file by a schema error's path, and their readable paths, without a scan of the file per
    error: ``tree.xpath`` of ``/*/*[k]/…`` and lxml's ``getelementpath`` both count the root's children
    (10⁴–10⁵ messages) for every call, so a file with a thousand bad records took minutes. Here the root's
    children and their names (``Ersuchen[21]``, the position among siblings of the same name, as
    ``getelementpath`` writes it) are listed once; below a message the few children are counted."""

    def __init__(self, tree: etree._ElementTree) -> None:
        self.tree = tree
        self.root = tree.getroot()
        self.children = [c for c in self.root if isinstance(c.tag, str)]
        total: dict[str, int] = defaultdict(int)
        for c in self.children:
            total[c.tag] += 1
        seen: dict[str, int] = defaultdict(int)
        self.names: dict[etree._Element, str] = {}
        for c in self.children:
            seen[c.tag] += 1
            local = etree.QName(c).localname
            self.names[c] = f"{local}[{seen[c.tag]}]" if total[c.tag] > 1 else local

    def element(self, path: str | None) -> etree._Element | None:
        """The element of a libxml2 error path (``/*/*[22]/*[5]/*[4]``); other shapes by XPath."""
        steps = (path or "").split("/")
        if len(steps) < 2 or steps[0] != "" or steps[1] != "*" or not all(
                st.startswith("*[") and st.endswith("]") and st[2:-1].isdigit() for st in steps[2:]):
            return _element_at(self.tree, path)
        node: etree._Element = self.root
        for n, st in enumerate(steps[2:]):
            kids = self.children if n == 0 else [c for c in node if isinstance(c.tag, str)]
            k = int(st[2:-1])
            if not 1 <= k <= len(kids):
                return None
            node = kids[k - 1]
        return node

    def readable(self, element: etree._Element) -> str:
        """:func:`enforcement.file_format.readable_path` of ``element``, counted as the class says."""
        parts: list[str] = []
        node: etree._Element | None = element
        while node is not None and node not in self.names:
            parent = node.getparent()
            if parent is None:                  # the root
                return readable_path(element)
            same = [c for c in parent if c.tag == node.tag]
            local = etree.QName(node).localname
            parts.append(f"{local}[{same.index(node) + 1}]" if len(same) > 1 else local)
            node = parent
        if node is None:
            return readable_path(element)
        parts.append(self.names[node])
        return "/".join(reversed(parts))


def _message_of(element: etree._Element) -> etree._Element | None:
    """The message (a child of the root other than the header) an element lies in, else None."""
    node: etree._Element | None = element
    while node is not None:
        parent = node.getparent()
        if parent is not None and parent.getparent() is None:
            return None if node.tag == f"{_NS}Header" else node
        node = parent
    return None


def _t(element: etree._Element | None, path: str) -> str | None:
    """Text at a relative path of local names (``Creditor/FileNumber``), None when missing."""
    if element is None:
        return None
    found = element.find("/".join(f"{_NS}{p}" for p in path.split("/")))
    return None if found is None else (found.text or "")


def _day(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _cents(value: str | None) -> int | None:
    """The file's euros (``12.34``) as cents; the schema has checked the shape."""
    if value is None:
        return None
    try:
        amount = Decimal(value) * 100
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    return int(amount)


@dataclass
class _Screened:
    file: str
    root: etree._Element
    header: Header
    items: list[etree._Element]
    rejected: list[dict[str, object]]
    count_in: int


def _reject(file: str, message: etree._Element, errors: list[tuple[int, str, str]]) -> dict[str, object]:
    line, where, _ = errors[0]
    kind = _KIND.get(etree.QName(message).localname)
    return {"file": file, "line": line, "element": where, "message": str(kind) if kind else None,
            "message_id": _t(message, "MessageId"), "creditor_file_number": _t(message, "Creditor/FileNumber"),
            "reason": "; ".join(f"{w}: {r}" if w else r for _, w, r in errors)}


def _body_of(element: etree._Element | None) -> Body:
    return Body(name=_t(element, "Name") or "", authority_id=_t(element, "AuthorityId"), street=_t(element, "Street"),
                postcode=_t(element, "Postcode"), city=_t(element, "City"))


def _screen(source: bytes | Path, kind: str, file: str | None) -> _Screened:
    name = file or (source.name if isinstance(source, Path) else "<bytes>")
    data = source if isinstance(source, bytes) else source.read_bytes()
    if b"<!DOCTYPE" in data:       # refused before parsing: no DTD, no entity gets near the parser
        raise AmtshilfeFileError("a DOCTYPE (DTD, entities) is not allowed", file=name, line=1)
    try:
        tree = etree.parse(io.BytesIO(data), _parser())
    except etree.XMLSyntaxError as exc:
        raise AmtshilfeFileError(f"not well-formed XML: {exc.msg}", file=name, line=exc.lineno or 0) from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:     # e.g. a file in another encoding
        raise AmtshilfeFileError("a DOCTYPE (DTD, entities) is not allowed", file=name, line=1)
    root = tree.getroot()
    if root.tag != f"{_NS}{kind}":
        raise AmtshilfeFileError(f"expected {kind} in namespace {NAMESPACE}, found {root.tag}", file=name,
                                 element=etree.QName(root).localname, line=root.sourceline or 0)
    xsd = schema()
    bad: dict[etree._Element, list[tuple[int, str, str]]] = {}
    paths: _Paths | None = None
    if not xsd.validate(tree):
        paths = _Paths(tree)
        for entry in xsd.error_log:
            element = paths.element(entry.path)
            owner = _message_of(element) if element is not None else None
            where = paths.readable(element) if element is not None else ""
            if owner is None:          # the root or the header: nothing in the file can be trusted
                raise AmtshilfeFileError(_reason(entry.message), file=name, element=where, line=entry.line)
            bad.setdefault(owner, []).append((entry.line, where, _reason(entry.message)))
    h = root.find(f"{_NS}Header")
    assert h is not None                            # the schema requires it
    header = Header(message_id=_t(h, "MessageId") or "", created=datetime.fromisoformat(_t(h, "Created") or ""),
                    sender=_body_of(h.find(f"{_NS}Sender")), receiver=_body_of(h.find(f"{_NS}Receiver")))
    items = [c for c in root if isinstance(c.tag, str) and c is not h]
    expected = int(_t(h, "Counts/Messages") or 0)
    if expected != len(items):
        raise AmtshilfeFileError(f"the header counts {expected} messages, the file holds {len(items)}", file=name,
                                 element="Header/Counts/Messages", line=h.sourceline or 0)
    seen: set[str] = set()
    for m in items:                                 # a message id twice: the second and later are rejected
        mid = _t(m, "MessageId")
        if mid is not None and mid in seen and m not in bad:
            paths = paths or _Paths(tree)
            bad[m] = [(m.sourceline or 0, paths.readable(m), f"message id {mid} repeated in this file")]
        if mid is not None:
            seen.add(mid)
    rejected = [_reject(name, m, errors) for m, errors in bad.items()]
    return _Screened(name, root, header, [m for m in items if m not in bad], rejected, len(items))


def _check_totals(sc: _Screened, tag: str, count: int, total: int) -> None:
    """The header's sub-count and control sum against what was read: checked only when no message was
    rejected (a rejected message's amounts may be exactly what is broken)."""
    if sc.rejected:
        return
    expected = int(_t(sc.root, f"Header/Counts/{tag}") or 0)
    if expected != count:
        raise AmtshilfeFileError(f"the header counts {expected} {tag}, the file holds {count}", file=sc.file,
                                 element=f"Header/Counts/{tag}")
    stated = _cents(_t(sc.root, "Header/ControlSum")) or 0
    if stated != total:
        raise AmtshilfeFileError(f"control sum {euros(stated)} differs from the messages' sum {euros(total)}",
                                 file=sc.file, element="Header/ControlSum")


def _flat(element: etree._Element) -> dict[str, str]:
    """The texts of an element's leaves by relative path (``Creditor/FileNumber``), in one walk; repeated
    children (``Notice``, ``Item``) are left out and read one by one. One ``find`` per field would cost
    more than the rest of the reader together."""
    out: dict[str, str] = {}
    cut = len(_NS)

    def walk(node: etree._Element, prefix: str) -> None:
        for child in node:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            name = tag[cut:]
            if name in ("Notice", "Item"):
                continue
            if len(child):
                walk(child, f"{prefix}{name}/")
            else:
                out[f"{prefix}{name}"] = child.text or ""

    walk(element, "")
    return out


def _notice_rows(m: etree._Element, mid: str) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
    rows: list[dict[str, Any]] = []
    problems: list[tuple[int, str, str]] = []
    for i, n in enumerate(m.iterfind(f"{_NS}Notice"), start=1):
        fn = _flat(n)
        row: dict[str, Any] = {"message_id": mid, "position": i, "notice_date": _day(fn.get("Date")),
               "notice_authority": fn.get("Authority"), "notice_file_number": fn.get("FileNumber"),
               "period_from": _day(fn.get("PeriodFrom")), "period_to": _day(fn.get("PeriodTo")),
               "principal_cents": _cents(fn.get("Principal")), "surcharge_cents": _cents(fn.get("Surcharges")),
               "costs_cents": _cents(fn.get("Costs"))}
        if row["period_from"] and row["period_to"] and row["period_from"] > row["period_to"]:
            problems.append((n.sourceline or 0, readable_path(n), "the period ends before it starts"))
        rows.append(row)
    return rows, problems


def _debtor_of(f: dict[str, str]) -> dict[str, Any]:
    return {"debtor_name": f.get("Debtor/Name"), "debtor_given_name": f.get("Debtor/GivenName"),
            "debtor_birth_date": _day(f.get("Debtor/BirthDate")),
            "debtor_street": f.get("Debtor/Address/Street"), "debtor_postcode": f.get("Debtor/Address/Postcode"),
            "debtor_city": f.get("Debtor/Address/City"), "debtor_country": f.get("Debtor/Address/Country")}


def read_requests(source: bytes | Path, *, file: str | None = None) -> RequestsRead:
    """Read a Requests file into :class:`~amtshilfe.model.Requests` frames (module docstring)."""
    sc = _screen(source, REQUESTS, file)
    reqs: list[dict[str, Any]] = []
    notices: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    for m in sc.items:
        kind = _KIND[etree.QName(m).localname]
        f = _flat(m)
        mid = f.get("MessageId") or ""
        rows, problems = _notice_rows(m, mid)
        ref = {"message_id": mid, "creditor_id": f.get("Creditor/AuthorityId"),
               "creditor_file_number": f.get("Creditor/FileNumber")}
        if kind == ErsuchenMessage.ERSUCHEN:
            row = {**ref, "creditor_name": f.get("Creditor/Name"), "creditor_street": f.get("Creditor/Street"),
                   "creditor_postcode": f.get("Creditor/Postcode"), "creditor_city": f.get("Creditor/City"),
                   "creditor_iban": f.get("Creditor/Iban"), "creditor_bic": f.get("Creditor/Bic"),
                   "payment_reference": f.get("Creditor/PaymentReference"),
                   "request_date": _day(f.get("RequestDate")), **_debtor_of(f),
                   "enforceable_statement": f.get("Enforceability/Statement"),
                   "enforceable_date": _day(f.get("Enforceability/Date"))}
        else:
            row = {**ref, "message": str(kind), "message_date": _day(f.get("Date")), **_debtor_of(f),
                   "suspended_until": _day(f.get("Until")), "note": f.get("Note")}
            if row["suspended_until"] and row["suspended_until"] < row["message_date"]:
                problems.append((m.sourceline or 0, readable_path(m), "suspended until a day before the message"))
        if problems:
            sc.rejected.append(_reject(sc.file, m, problems))
            continue
        (reqs if kind == ErsuchenMessage.ERSUCHEN else changes).append(row)
        notices.extend(rows)
    total = sum(n["principal_cents"] + n["surcharge_cents"] + n["costs_cents"] for n in notices)
    _check_totals(sc, "Notices", len(notices), total)
    data = requests(pl.DataFrame(reqs, schema=columns(Request), orient="row"),
                    pl.DataFrame(notices, schema=columns(Notice), orient="row"),
                    pl.DataFrame(changes, schema=columns(Change), orient="row"))
    return RequestsRead(sc.header, data, _rejected(sc.rejected), sc.count_in)


def _sachstand_problems(m: etree._Element, f: dict[str, str], code: str | None) -> list[tuple[int, str, str]]:
    """What the schema cannot say about one status report."""
    line, where = m.sourceline or 0, readable_path(m)
    has = {t: m.find(f"{_NS}{t}") is not None for t in ("Creditor", "Payment", "Invoice")}
    out = []
    if code != ErsuchenFeedback.COST_INVOICE and not has["Creditor"]:
        out.append((line, where, f"status report {code} names no request (Creditor)"))
    if (code == ErsuchenFeedback.PAYMENT_FORWARDED) != has["Payment"]:
        out.append((line, where, "Payment belongs to payment_forwarded and only there"))
    if (code == ErsuchenFeedback.COST_INVOICE) != has["Invoice"]:
        out.append((line, where, "Invoice belongs to cost_invoice and only there"))
    start, end = _day(f.get("Invoice/PeriodFrom")), _day(f.get("Invoice/PeriodTo"))
    if start and end and start > end:
        out.append((line, f"{where}/Invoice", "the period ends before it starts"))
    return out


def read_answers(source: bytes | Path, *, file: str | None = None) -> AnswersRead:
    """Read an Answers file into :class:`~amtshilfe.model.Answers` frames (module docstring)."""
    sc = _screen(source, ANSWERS, file)
    out: dict[str, list[dict[str, Any]]] = {"r": [], "s": [], "c": [], "i": []}
    for m in sc.items:
        kind = _KIND[etree.QName(m).localname]
        f = _flat(m)
        ref = {"message_id": f.get("MessageId") or "", "creditor_id": f.get("Creditor/AuthorityId"),
               "creditor_file_number": f.get("Creditor/FileNumber"), "case_number": f.get("CaseNumber"),
               "message_date": _day(f.get("Date"))}
        if kind == ErsuchenMessage.RUECKGABE:
            out["r"].append({**ref, "reason": f.get("Reason"), "text": f.get("Text"),
                             "competent_authority": f.get("CompetentAuthority")})
        elif kind == ErsuchenMessage.INFORMATION:
            out["i"].append({**ref, "text": f.get("Text")})
        else:
            code = f.get("Code")
            problems = _sachstand_problems(m, f, code)
            if problems:
                sc.rejected.append(_reject(sc.file, m, problems))
                continue
            out["s"].append({**ref, "code": code, "amount_cents": _cents(f.get("Payment/Amount")),
                             "paid_on": _day(f.get("Payment/Date")), "period_from": _day(f.get("Invoice/PeriodFrom")),
                             "period_to": _day(f.get("Invoice/PeriodTo")), "note": f.get("Note")})
            for i, item in enumerate(m.iterfind(f"{_NS}Invoice/{_NS}Item"), start=1):
                fi = _flat(item)
                out["c"].append({"message_id": ref["message_id"], "position": i,
                                 "creditor_file_number": fi.get("FileNumber"), "kind": fi.get("Kind"),
                                 "description": fi.get("Description"), "amount_cents": _cents(fi.get("Amount"))})
    total = sum(r["amount_cents"] or 0 for r in out["s"]) + sum(c["amount_cents"] for c in out["c"])
    _check_totals(sc, "CostItems", len(out["c"]), total)
    data = answers(*(pl.DataFrame(out[k], schema=columns(s), orient="row")
                     for k, s in (("r", Rueckgabe), ("s", Sachstand), ("c", CostItem), ("i", Information))))
    return AnswersRead(sc.header, data, _rejected(sc.rejected), sc.count_in)


def _rejected(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=REJECTED_SCHEMA, orient="row") if rows else pl.DataFrame(schema=REJECTED_SCHEMA)
