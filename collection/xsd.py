"""Every pain file we write is validated against its XSD before anyone may release it.

The schemas are the ISO 20022 XSDs that sepaxml ships (``sepaxml/schemas``), loaded once per version with
lxml. We do not use sepaxml's ``validate=True``: it validates a whole string with ``xmlschema``, which is
slow and breaks on large files. Here the bytes or the file are validated while they are parsed
(``iterparse`` with the schema, elements freed as they pass), so memory stays flat at 200,000
transactions.

The ISO XSDs allow amounts with five decimals and up to 18 digits; the SEPA rulebooks allow two decimals
and 0.01 .. 999,999,999.99 EUR (the EPC's own XSDs restrict the amount type so). We overlay exactly that
restriction on the loaded schema (``_SEPA_AMOUNT``), so a file with ``12.345`` is refused here and not
by the bank.

A failure raises PainValidationError with the element's path (``PmtInf[1]/DrctDbtTxInf[3]/DbtrAcct/Id/
IBAN``), the end-to-end id of the transaction it is in, the line and the schema's message. To find the
path, a failing file is parsed a second time as a whole tree; that costs memory only for a broken file.
"""

from __future__ import annotations

import io
from functools import cache
from importlib import resources
from pathlib import Path

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"
NS_PREFIX = "urn:iso:std:iso:20022:tech:xsd:"
#: The SEPA restriction of the amount type: facet -> value.
_SEPA_AMOUNT = {
    "fractionDigits": "2",
    "totalDigits": "11",
    "minInclusive": "0.01",
    "maxInclusive": "999999999.99",
}
#: The ISO simple types of a transaction amount in the pain versions we write.
_AMOUNT_TYPES = ("ActiveOrHistoricCurrencyAndAmount_SimpleType",)


class PainValidationError(ValueError):
    """A pain file does not validate against its (SEPA-restricted) XSD."""

    def __init__(self, message: str, *, path: str = "", line: int = 0, end_to_end_id: str | None = None):
        self.message = message
        self.path = path
        self.line = line
        self.end_to_end_id = end_to_end_id
        where = f" at {path}" if path else ""
        tx = f" (EndToEndId {end_to_end_id})" if end_to_end_id else ""
        super().__init__(f"pain file invalid{where}{tx}, line {line}: {message}")


def schema_path(version: str) -> Path:
    """The XSD sepaxml ships for a version such as ``pain.008.001.08``."""
    path = Path(str(resources.files("sepaxml") / "schemas" / f"{version}.xsd"))
    if not path.is_file():
        raise ValueError(f"no XSD for {version!r} in sepaxml")
    return path


@cache
def schema(version: str, *, sepa: bool = True) -> etree.XMLSchema:
    """The compiled schema of a version, loaded once; ``sepa`` overlays the SEPA amount restriction."""
    doc = etree.parse(str(schema_path(version)))
    if sepa:
        for name in _AMOUNT_TYPES:
            for restriction in doc.getroot().iterfind(f"{XS}simpleType[@name='{name}']/{XS}restriction"):
                for facet in list(restriction):
                    if etree.QName(facet).localname in _SEPA_AMOUNT:
                        restriction.remove(facet)
                for facet_name, value in _SEPA_AMOUNT.items():
                    etree.SubElement(restriction, f"{XS}{facet_name}", value=value)
    return etree.XMLSchema(doc)


def version_of(source: bytes | Path) -> str:
    """The pain version named by the root element's namespace."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    with stream:
        for _, element in etree.iterparse(stream, events=("start",)):
            ns = etree.QName(element).namespace or ""
            if not ns.startswith(NS_PREFIX):
                raise PainValidationError(f"root namespace {ns!r} is not an ISO 20022 pain namespace")
            return ns[len(NS_PREFIX) :]
    raise PainValidationError("empty document")


def validate(source: bytes | Path, version: str | None = None) -> str:
    """Validate a pain file (bytes or a path) against its XSD; returns the version. Raises
    PainValidationError naming the failing element."""
    version = version or version_of(source)
    xsd = schema(version)
    stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    try:
        with stream:
            for _, element in etree.iterparse(stream, events=("end",), schema=xsd, huge_tree=True):
                if element.getparent() is not None and etree.QName(element).localname in (
                    "DrctDbtTxInf",
                    "CdtTrfTxInf",
                ):
                    element.clear(keep_tail=True)
                    parent = element.getparent()
                    while parent is not None and element.getprevious() is not None:
                        del parent[0]
    except etree.XMLSyntaxError as exc:
        raise _locate(source, xsd, exc) from exc
    return version


def _readable_path(element: etree._Element) -> str:
    """``CstmrDrctDbtInitn/PmtInf[1]/DrctDbtTxInf[3]/DbtrAcct/Id/IBAN``: local names, with 1-based
    positions where an element repeats."""
    parts: list[str] = []
    node: etree._Element | None = element
    while node is not None and node.getparent() is not None:
        name = etree.QName(node).localname
        parent = node.getparent()
        assert parent is not None
        same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
        parts.append(
            f"{name}[{same.index(node) + 1}]"
            if len(same) > 1 or name in ("PmtInf", "DrctDbtTxInf", "CdtTrfTxInf")
            else name
        )
        node = parent
    return "/".join(reversed(parts))


def _locate(source: bytes | Path, xsd: etree.XMLSchema, exc: etree.XMLSyntaxError) -> PainValidationError:
    """Turn the streaming parser's error into one with the element path (second, whole-tree pass)."""
    try:
        tree = etree.parse(
            io.BytesIO(source) if isinstance(source, bytes) else str(source), etree.XMLParser(huge_tree=True)
        )
    except etree.XMLSyntaxError:  # not well-formed: the parser's own message and line are all there is
        return PainValidationError(f"not well-formed XML: {exc.msg}", line=exc.lineno or 0)
    if xsd.validate(tree):  # pragma: no cover - the streaming pass and the tree pass disagree
        return PainValidationError(str(exc.msg), line=exc.lineno or 0)
    entry = xsd.error_log[0]
    found = tree.xpath(entry.path) if entry.path else []
    element = found[0] if isinstance(found, list) and found and isinstance(found[0], etree._Element) else None
    if element is None:
        return PainValidationError(entry.message, line=entry.line)
    e2e = None
    for ancestor in element.iterancestors():
        if etree.QName(ancestor).localname in ("DrctDbtTxInf", "CdtTrfTxInf"):
            e2e = ancestor.findtext("{*}PmtId/{*}EndToEndId")
            break
    return PainValidationError(
        entry.message, path=_readable_path(element), line=entry.line, end_to_end_id=e2e
    )
