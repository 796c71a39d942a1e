"""The sample municipality's next direct-debit due date: claims with a mandate that the treasury collects.

The bank files of a set show the treasury's collections of the current due date coming in one by one
(case ``dd_collection``, GVC 171: the old route, before Stadtkasse wrote its own pain.008 files). The
claims with a mandate that no booking of the set touches are made the **next instalment**: due on the
next monthly due date after the last booking day (the 15th, the rhythm of :func:`synth.claims._due_dates`
for Kita fees), so that ``kasse collect`` has one due date to collect after the booking days — the demo's
collection day (``flows/cmd_demo.py``) — and the weekly dunning run does not dun claims the treasury is
going to collect.

Their mandates are signed within the three years before the set's start (a mandate unused for 36 months
expires, and the ledger's register knows no collection older than the set); one in twenty keeps an old
signature, so the collection run shows what it does with an expired mandate.

A debtor whose name the SEPA character set cannot carry (``Ç``, ``ë`` …) keeps the old due date: ``kasse
collect`` refuses a run with such a text rather than transliterating it (docs/SEPA.md), so one of them
would stop the sample's whole collection; they stay with the dunning run.

Deterministic without touching the set's main generator: the choices draw from generators seeded with
the set's seed and the receivable id, so every other value of the set stays as it was.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable

from collection.sepa_text import Charset, FieldKind, allowed
from synth.claims import Item

#: share of the moved claims whose mandate keeps its (possibly expired) signature date
OLD_MANDATE_SHARE = 0.05


def next_due_date(last_day: dt.date) -> dt.date:
    """The first 15th of a month after ``last_day``."""
    this = dt.date(last_day.year, last_day.month, 15)
    if this > last_day:
        return this
    return dt.date(last_day.year + (last_day.month == 12), last_day.month % 12 + 1, 15)


def next_instalments(items: Iterable[Item], touched: set[str], seed: int, start: dt.date,
                     last_day: dt.date) -> dt.date:
    """Move every claim with a mandate that no booking touches (``touched``: receivable ids) to
    :func:`next_due_date` and give its mandate a recent signature (module docstring); in place.
    Returns the due date."""
    due = next_due_date(last_day)
    for it in items:
        if not it.mandate_id or it.receivable_id in touched or it.due_date > last_day:
            continue
        if not allowed(it.debtor.name, FieldKind.NAME, Charset.DK):
            continue
        it.due_date = due
        rng = random.Random(f"collection:{seed}:{it.receivable_id}")
        if rng.random() >= OLD_MANDATE_SHARE:
            it.mandate_date = start - dt.timedelta(days=rng.randrange(30, 3 * 365 - 30))
    return due
