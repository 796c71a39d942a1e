"""Between municipalities (issue 17 §4): which tenant an enforcement file is for, read from its header only.

One municipality's enforcement office may work for another's treasury (Detmold for Oerlinghausen). Both
run as tenants of the same Stadtkasse installation; a tenant's jobs write only into its own folders, and the
data centre's exchange (``jobs.exchange``) carries the files between them. What the exchange may carry is
decided here, from the file's header and the tenants' ``[enforcement]`` settings, never from its name:

* ``Handoff`` and ``Update`` go from the creditor to its office: the header's ``Tenant`` is the tenant whose
  outbox holds the file, ``Receiver/Tenant`` is the office's tenant, the creditor names that tenant in
  ``office_tenant`` and the office lists the creditor in ``clients``.
* ``Outcomes`` go back: the file lies in the office tenant's outbox, its ``OfficeId`` is that tenant's
  ``office_id`` (and ``Sender/Tenant``, when given, that tenant), ``Receiver/Tenant`` is a client of the
  office that names this office in its ``office_tenant``.

A file without ``Receiver/Tenant`` (or naming its own tenant) is for the tenant's own enforcement product:
the exchange leaves it alone. Everything else that disagrees stays where it is, with the reason.

Only the header is parsed (``lxml.etree.iterparse``, stopped at the end of ``Header``; no entities, no
network): the exchange does not validate the file — the receiving tenant's import does, and quarantines a
broken one.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree

from enforcement.file_format import HANDOFF, NAMESPACE, OUTCOMES, UPDATE, EnforcementFileError

_NS = f"{{{NAMESPACE}}}"
KINDS = (HANDOFF, UPDATE, OUTCOMES)


@dataclass(frozen=True)
class Envelope:
    """What the exchange reads of an enforcement file: the message kind and the header's routing fields."""

    kind: str
    message_id: str | None
    tenant: str | None            # Handoff/Update: Header/Tenant (the creditor); Outcomes: Sender/Tenant
    receiver_tenant: str | None   # Receiver/Tenant
    office_id: str | None         # Outcomes: OfficeId


@dataclass(frozen=True)
class Peer:
    """One tenant's side of the routes: its own office's id, the office it hands to, the clients it serves."""

    tenant: str
    office_id: str
    office_tenant: str | None
    clients: tuple[str, ...]


#: How many bytes :func:`message_kind` reads: enough for an XML declaration, comments and the root's start tag.
HEAD_BYTES = 4096


def message_kind(head: bytes) -> str | None:
    """``Handoff``, ``Update`` or ``Outcomes`` when ``head`` (the first bytes of a file) starts one of our
    messages; ``None`` for anything else (a bank file, another XML). Reads no more than the root's tag."""
    parser = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True)
    try:
        parser.feed(head)
        for _event, element in parser.read_events():
            qname = etree.QName(element)
            return qname.localname if qname.namespace == NAMESPACE and qname.localname in KINDS else None
    except etree.XMLSyntaxError:
        return None
    return None


def envelope(data: bytes, *, file: str = "<bytes>") -> Envelope | None:
    """The header of an enforcement file, or ``None`` when ``data`` is no message of our namespace (a pain
    file, another XML). :class:`EnforcementFileError` when it is ours but not well-formed up to the end of
    its header."""
    root: etree._Element | None = None
    try:
        for event, element in etree.iterparse(io.BytesIO(data), events=("start", "end"), resolve_entities=False,
                                              no_network=True, huge_tree=True):
            if root is None:
                root = element
                if element.tag not in {f"{_NS}{k}" for k in KINDS}:
                    return None
                continue
            if event == "end" and element.tag == f"{_NS}Header" and element.getparent() is root:
                return _read(etree.QName(root).localname, element)
    except etree.XMLSyntaxError as exc:
        if root is None:
            return None                 # not XML at all: not ours
        raise EnforcementFileError(f"not well-formed XML: {exc.msg}", file=file, line=exc.lineno or 0) from exc
    if root is None:
        return None
    raise EnforcementFileError("no Header", file=file, element=etree.QName(root).localname)


def _read(kind: str, header: etree._Element) -> Envelope:
    def value(path: str) -> str | None:
        found = header.findtext("/".join(f"{_NS}{p}" for p in path.split("/")))
        return found.strip() or None if found is not None else None

    sender = "Sender/Tenant" if kind == OUTCOMES else "Tenant"
    return Envelope(kind, value("MessageId"), value(sender), value("Receiver/Tenant"),
                    value("OfficeId") if kind == OUTCOMES else None)


def route(env: Envelope, sender: str, peers: Mapping[str, Peer]) -> tuple[str | None, str | None]:
    """``(receiving tenant, None)`` when the exchange carries the file found in ``sender``'s outbox,
    ``(None, None)`` when it is for the sender's own enforcement product, ``(None, reason)`` when it stays."""
    receiver = env.receiver_tenant
    if receiver is None or receiver == sender:
        return None, None
    me = peers[sender]
    if env.kind == OUTCOMES:
        if env.office_id != me.office_id:
            return None, (f"OfficeId {env.office_id!r} is not the office id of tenant {sender!r} "
                          f"([enforcement] office_id = {me.office_id!r})")
        if env.tenant is not None and env.tenant != sender:
            return None, f"Sender/Tenant {env.tenant!r} is not {sender!r}, whose outbox holds the file"
    elif env.tenant != sender:
        return None, f"Tenant {env.tenant!r} in the header is not {sender!r}, whose outbox holds the file"
    other = peers.get(receiver)
    if other is None:
        return None, f"Receiver/Tenant {receiver!r} is not a tenant of this exchange"
    office, client = (me, other) if env.kind == OUTCOMES else (other, me)
    if client.tenant not in office.clients:
        return None, (f"tenant {client.tenant!r} is not a client of the office of tenant {office.tenant!r} "
                      f"([enforcement] clients of {office.tenant!r})")
    if client.office_tenant != office.tenant:
        return None, (f"tenant {client.tenant!r} hands its cases to {client.office_tenant or 'its own office'}, "
                      f"not to {office.tenant!r} ([enforcement] office_tenant)")
    return receiver, None
