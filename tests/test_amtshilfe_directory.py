"""The directory of competent authorities (``amtshilfe.directory``): keys by postcode or AGS, the exchange
address, and every refusal naming the file and the line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from amtshilfe.checks import read_authorities
from amtshilfe.directory import DirectoryError, competent, read_directory

HEAD = "postcode;ags;authority_id;authority_name;authority_street;authority_postcode;authority_city;exchange\n"
MS = "Stadt Münster;Klemensstraße 10;48143;Münster;xta:vs-ms"


def write(tmp_path: Path, body: str, head: str = HEAD, bom: bool = False) -> Path:
    p = tmp_path / "authorities.csv"
    p.write_bytes(("\ufeff" if bom else "").encode() + (head + body).encode("utf-8"))
    return p


def test_the_sample_directory_reads() -> None:
    d = read_directory(Path(__file__).parents[1] / "data_samples" / "authorities.csv")
    assert d.filter(pl.col("key") == "48143")["authority_id"].to_list() == ["VS-MS"]
    assert d.filter(pl.col("key") == "05515000")["key_kind"].to_list() == ["ags"]


def test_a_row_keys_by_postcode_and_ags_with_its_exchange_address(tmp_path: Path) -> None:
    d = read_directory(write(tmp_path, f"48143;05515000;VS-MS;{MS}\n48145;;VS-MS;{MS}\n", bom=True))
    assert d.select("key_kind", "key", "authority_id", "exchange", "line").rows() == [
        ("postcode", "48143", "VS-MS", "xta:vs-ms", 2), ("ags", "05515000", "VS-MS", "xta:vs-ms", 2),
        ("postcode", "48145", "VS-MS", "xta:vs-ms", 3)]
    assert read_authorities(tmp_path / "authorities.csv")["postcode"].to_list() == ["48143", "48145"]


@pytest.mark.parametrize(("body", "line", "reason"), [
    (f"4814;;VS-MS;{MS}\n", 2, "postcode: not five digits '4814'"),
    (f"48143;5515000;VS-MS;{MS}\n", 2, "ags: not eight digits"),
    (f";;VS-MS;{MS}\n", 2, "neither postcode nor ags"),
    ("48143;;VS-MS;;Weg 1;48143;Münster;x\n", 2, "authority_name: missing"),
    (f"48143;;VS MS;{MS}\n", 2, "authority_id: not an id"),
    (f"48143;;VS-MS;{MS}\n48143;;VS-K;Stadt Köln;;;;\n", 3, "postcode 48143 names another authority in line 2"),
    (f"48143;;VS-MS;{MS}\n48145;;VS-MS;Stadt Münster;Anderswo 1;48143;Münster;xta:vs-ms\n", 3,
     "authority VS-MS has another name or address in line 2"),
    (f"48143;;VS-MS;{MS};zu viel\n", 2, "9 fields, the header has 8"),
])
def test_a_row_that_cannot_be_used_refuses_the_file_with_its_line(tmp_path: Path, body: str, line: int,
                                                                   reason: str) -> None:
    path = write(tmp_path, body)
    with pytest.raises(DirectoryError, match=reason) as err:
        read_directory(path)
    assert (err.value.file, err.value.line) == (str(path), line)
    assert str(err.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(("head", "reason"), [
    ("postcode;authority_id\n", "authority_name missing"),
    ("authority_id;authority_name\n", "neither a postcode nor an ags column"),
    ("postcode;postcode;authority_name\n", "column postcode twice"),
])
def test_a_bad_header_refuses_the_file(tmp_path: Path, head: str, reason: str) -> None:
    with pytest.raises(DirectoryError, match=reason):
        read_directory(write(tmp_path, "", head=head))


def test_not_utf8_and_missing_file_are_refused(tmp_path: Path) -> None:
    p = tmp_path / "authorities.csv"
    p.write_bytes(HEAD.encode() + "48143;;VS-MS;Stadt M\xfcnster;;;;\n".encode("cp1252"))
    with pytest.raises(DirectoryError, match="not UTF-8"):
        read_directory(p)
    with pytest.raises(DirectoryError, match="cannot be read"):
        read_directory(tmp_path / "nope.csv")


def test_the_municipality_key_wins_over_the_postcode(tmp_path: Path) -> None:
    d = read_directory(write(tmp_path, f"48143;;VS-MS;{MS}\n;05558012;VS-TE;Stadt Telgte;;;;xta:te\n"))
    debtors = pl.DataFrame({"debtor_postcode": ["48143", "48143", "99999"],
                            "debtor_municipality": [None, "05558012", None]})
    assert competent(debtors, d)["authority_id"].to_list() == ["VS-MS", "VS-TE", None]
