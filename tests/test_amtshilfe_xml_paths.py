"""The XML reader finds a schema error's element and its readable path without a scan of the file per
error (amtshilfe/xml_format.py ``_Paths``): the same answers as XPath and ``readable_path``."""

from __future__ import annotations

import io

import pytest
from lxml import etree

from amtshilfe.xml_format import _Paths, read_requests, schema
from enforcement.file_format import readable_path
from synth import amtshilfe_data as ad


@pytest.mark.parametrize(("n", "seed", "every"), [(300, 3, 20), (600, 5, 7), (3, 1, 1)])
def test_every_element_and_every_error_path_as_xpath_and_readable_path_give_them(n: int, seed: int,
                                                                                 every: int) -> None:
    data, broken = ad.with_bad_records(ad.requests_xml(ad.delivery(n, seed)), "xml", every=every)
    tree = etree.parse(io.BytesIO(data))
    xsd = schema()
    assert not xsd.validate(tree)
    paths = _Paths(tree)
    errors = list(xsd.error_log)
    assert errors
    for e in errors:
        (want,) = tree.xpath(e.path)
        assert paths.element(e.path) is want
    for el in tree.iter():
        if isinstance(el.tag, str) and el.getparent() is not None:
            assert paths.readable(el) == readable_path(el)
    # and the reader rejects exactly the broken messages
    got = read_requests(data, file="d.xml")
    assert sorted(got.rejected["message_id"].to_list()) == sorted(broken["message_id"].to_list())


def test_a_path_of_another_shape_or_out_of_range_is_answered_too() -> None:
    tree = etree.parse(io.BytesIO(ad.requests_xml(ad.delivery(5, 1))))
    paths = _Paths(tree)
    assert paths.element("/*/*[999]") is None
    assert paths.element("/*/*[2]") is paths.children[1]
    assert paths.element(None) is None
