"""camt files serialised the ways banks write them: the byte-level path reads every shape, exactly.

Differential: each generated file, in each shape of ``synth.camt_render.SHAPES`` and in random layouts
(hypothesis: comments, processing instructions, line breaks, character references, CDATA, ``<X></X>``,
blanks and single quotes in tags, prefixes, CRLF, BOM), is read by the byte-level path and by the
element path, and the results must be identical.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_camt_fast import _both, _same

import parsers.camt_fast
from synth.bench import write_camt053_file
from synth.camt_render import SHAPES, reshape

#: columns that may differ between shapes of one document (raw keeps the bank's layout in part)
_LAYOUT_COLUMNS = ("raw", "source_path")


@pytest.fixture(scope="module")
def shaped(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("shapes")
    files = {}
    for shape in SHAPES:
        files[shape] = folder / f"{shape}.xml"
        write_camt053_file(files[shape], 2300, seed=7, shape=shape)  # two statements
    return files


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("block", [None, 50_000])
def test_every_shape_takes_the_fast_path_and_matches_the_element_path(
        shape: str, block: int | None, shaped: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsers.camt_fast, "BLOCK_BYTES", block or (8 << 20))
    fast, slow, taken = _both(shaped[shape], monkeypatch)
    assert taken
    _same(fast, slow)
    assert fast.issues == slow.issues
    assert fast.transactions.height == 2300 and fast.statements.height == 2


@pytest.mark.parametrize("shape", [s for s in SHAPES if s != "lxml"])
def test_shapes_give_the_same_fields(shape: str, shaped: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _slow, _ = _both(shaped[shape], monkeypatch)
    plain, _, _ = _both(shaped["lxml"], monkeypatch)
    assert fast.transactions.drop(_LAYOUT_COLUMNS).equals(plain.transactions.drop(_LAYOUT_COLUMNS))
    assert fast.statements.drop("source_path").equals(plain.statements.drop("source_path"))
    assert fast.transactions["remittance"].str.contains("Kassenz|KZ|Az\\.").sum() > 1000


def test_reshape_writes_what_it_says() -> None:
    doc = '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:x">\n  <Ntry><Nm>Müller, Jörg</Nm><X/></Ntry>\n</Document>\n'
    assert reshape(doc, "one_line").count("\n") == 0
    assert reshape(doc, "crlf_bom").startswith("\ufeff<?xml") and "\r\n" in reshape(doc, "crlf_bom")
    assert '<ns2:Document xmlns:ns2="urn:x" xsi:schemaLocation="urn:x ' in reshape(doc, "prefixed")
    assert "<X></X><" in reshape(doc, "open_close") and "</Nm>" in reshape(doc, "open_close")
    assert "M&#xFC;ller&#44; J&#xF6;rg" in reshape(doc, "references")
    assert "<!-- Buchung --><Ntry><!-- Umsatz -->" in reshape(doc, "comments")
    with pytest.raises(ValueError, match="unknown shape"):
        reshape(doc, "sloppy")


# --- random layouts -------------------------------------------------------------------------------

with tempfile.TemporaryDirectory(prefix="camt_shapes_") as _tmp:
    write_camt053_file(Path(_tmp) / "seed.xml", 12, seed=3)
    SEED = (Path(_tmp) / "seed.xml").read_text(encoding="utf-8")
_BOUNDARY = re.compile(r">(?=\s*<)")
_START_TAG = re.compile(r"<([A-Za-z]\w*)((?: \w+=\"[^\"]*\")*)>")
_END_TAG = re.compile(r"</([A-Za-z]\w*)>")
_TEXT = re.compile(r">([^<>&\s][^<>&]*)<")
_ATTRIBUTE = re.compile(r' (\w+)="([^"]*)"')

EDITS = ("comment", "pi", "break", "charref", "cdata", "empty", "start_blanks", "end_blanks", "quotes")


def _nth(pattern: re.Pattern[str], text: str, where: float) -> re.Match[str] | None:
    hits = list(pattern.finditer(text[text.index("<Ntry>"):]))  # inside the entries: the head is the head
    if not hits:
        return None
    m = hits[min(int(where * len(hits)), len(hits) - 1)]
    return pattern.match(text, m.start() + text.index("<Ntry>"))


def _edit(text: str, kind: str, where: float) -> str:
    """One layout change at the ``where``-th place of its kind; the content an XML parser reads is kept
    (``empty``, ``cdata``: changed the same way for both paths)."""
    if kind in ("comment", "pi", "break"):
        m = _nth(_BOUNDARY, text, where)
        insert = {"comment": "<!-- c - d > e -->", "pi": "<?note a?>", "break": "\r\n\t "}[kind]
    elif kind in ("charref", "cdata", "empty"):
        m = _nth(_TEXT, text, where)
        if m is None:
            return text
        value = m.group(1)
        new = {"charref": lambda: "".join(f"&#{ord(c)};" if i % 2 else f"&#x{ord(c):x};" for i, c in enumerate(value)),
               "cdata": lambda: f"<![CDATA[{value}]]>", "empty": lambda: ""}[kind]()
        return text[: m.start(1)] + new + text[m.end(1):]
    elif kind == "start_blanks":
        m = _nth(_START_TAG, text, where)
        if m is None:
            return text
        return text[: m.end() - 1] + " \n" + text[m.end() - 1:]
    elif kind == "end_blanks":
        m = _nth(_END_TAG, text, where)
        if m is None:
            return text
        return text[: m.end() - 1] + "\t " + text[m.end() - 1:]
    else:  # quotes
        m = _nth(_ATTRIBUTE, text, where)
        if m is None:
            return text
        return text[: m.start()] + f" {m.group(1)} = '{m.group(2)}'" + text[m.end():]
    if m is None:
        return text
    return text[: m.end()] + insert + text[m.end():]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.sampled_from(EDITS), st.floats(min_value=0.0, max_value=0.999)), max_size=12),
       prefixed=st.booleans(), crlf=st.booleans(), bom=st.booleans(), block=st.sampled_from([None, 3000]))
def test_random_layouts_take_the_fast_path_and_match(edits: list[tuple[str, float]], prefixed: bool, crlf: bool,
                                                     bom: bool, block: int | None, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    text = SEED
    for kind, where in edits:
        text = _edit(text, kind, where)
    if prefixed:
        text = reshape(text, "prefixed")
    if crlf:
        text = text.replace("\n", "\r\n")
    path = tmp_path / "random.xml"
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    monkeypatch.setattr(parsers.camt_fast, "BLOCK_BYTES", block or (8 << 20))
    fast, slow, taken = _both(path, monkeypatch)
    assert not any(i.code == "camt.malformed_xml" for i in slow.issues), slow.issues[:2]  # the edits keep it XML
    assert taken, [i.message for i in fast.issues if i.code == "camt.element_path"]
    _same(fast, slow)
    assert fast.issues == slow.issues
