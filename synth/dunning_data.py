"""What the dunning run needs of the synthetic municipality (issue 15): notice dates, blocks, instalment plans.

* ``notice_date`` — the Bekanntgabe of the Leistungsbescheid: on about 20 % of the main claims, the day
  the notice counts as delivered, 3 or 4 days after it was posted (the Bekanntgabefiktion). The notice
  was posted up to 30 days before the due date, or for a few (a late assessment) up to 10 days after
  it, so there the Schonfrist runs from the Bekanntgabe, not from the due date.
* ``block_reason`` (+ ``dunning_block_until``, which the claims generator already sets on ~3 %): those
  claims get one of MAHNSPERRE, STUNDUNG, ADV, NIEDERSCHLAGUNG, RATENZAHLUNG or none (an end date
  without a reason is a MAHNSPERRE); about 1 % more get a block **without end** (MAHNSPERRE, ADV,
  NIEDERSCHLAGUNG); and about 1.5 % of debtors have a block on every claim (without end, unless the claim had an end date
  already): INSOLVENZ, VERSTORBEN, ADRESSE_UNBEKANNT. Every reason of ``claims.vocab.BlockReason`` appears in the demo set.
* **Instalment plans** (``instalment_plans.csv``, read by ``dunning.instalments.read_plans``): about 3 %
  of the debtors with an overdue, unblocked claim agreed to pay it off: the overdue claims listed (or,
  for a quarter of the plans, none listed: all the debtor's claims), about 3–12 monthly instalments in
  whole euros (rounded up; the last pays the rest of ``total_cents``), agreed 3–40 days before the set's first day; two thirds have their first instalment on or
  after that day (on time at the demo run), a third before it (missed: the set's statements hold no
  instalment payments).

Every value comes from a generator of its own seeded by the set's seed and the claim's or the debtor's
id (like :mod:`synth.addresses`): the claims, payments and bank files are the same as without them, and
the rows of a base set stay the same in a set with round-two items appended.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Iterable

import polars as pl

from claims.vocab import BlockReason, ClaimType
from synth.claims import Item

#: Reasons of a block with an end date (the export's ``dunning_block_until``); "" = a plain end date.
ENDING = (BlockReason.MAHNSPERRE, BlockReason.STUNDUNG, BlockReason.ADV, BlockReason.NIEDERSCHLAGUNG,
          BlockReason.RATENZAHLUNG, "")
#: Reasons of a block on one claim without end.
OPEN_ENDED = (BlockReason.MAHNSPERRE, BlockReason.ADV, BlockReason.NIEDERSCHLAGUNG)
#: Reasons that hold every claim of a debtor, without end.
DEBTOR_WIDE = (BlockReason.INSOLVENZ, BlockReason.VERSTORBEN, BlockReason.ADRESSE_UNBEKANNT)
_ANCILLARY = {str(t) for t in ClaimType.ancillary()}

PLAN_COLUMNS = ("plan_id", "debtor_id", "receivable_ids", "agreed_on", "first_due", "n_instalments",
                "amount_cents", "total_cents", "interval_months", "grace_days")


def add_dunning_fields(items: Iterable[Item], seed: int) -> None:
    """Set ``notice_date`` and ``block_reason`` (and the end of some blocks) on ``items`` in place."""
    wide: dict[str, str] = {}
    for it in items:
        debtor = it.debtor.debtor_id
        if debtor not in wide:
            drng = random.Random(f"dunning-debtor:{seed}:{debtor}")
            wide[debtor] = str(drng.choice(DEBTOR_WIDE)) if drng.random() < 0.015 else ""
        rng = random.Random(f"dunning:{seed}:{it.receivable_id}")
        main = it.claim_type not in _ANCILLARY
        if main and rng.random() < 0.2:
            posted = it.due_date - dt.timedelta(days=rng.randint(-10, 30) if rng.random() < 0.15 else rng.randint(0, 30))
            it.notice_date = posted + dt.timedelta(days=rng.choice((3, 4)))
        if wide[debtor]:
            it.block_reason = wide[debtor]
        elif it.dunning_block_until is not None:
            it.block_reason = str(rng.choice(ENDING))
        elif main and rng.random() < 0.01:
            it.block_reason = str(rng.choice(OPEN_ENDED))


def instalment_plans(items: list[Item], seed: int, start: dt.date) -> pl.DataFrame:
    """The plans of the set (columns :data:`PLAN_COLUMNS`, ``receivable_ids`` as text joined by ``,``)."""
    by_debtor: dict[str, list[Item]] = {}
    for it in items:
        by_debtor.setdefault(it.debtor.debtor_id, []).append(it)
    rows: list[dict[str, object]] = []
    for debtor, own in by_debtor.items():
        overdue = [it for it in own if it.due_date < start]
        if not overdue or any(it.block_reason or it.dunning_block_until for it in own):
            continue
        rng = random.Random(f"instalments:{seed}:{debtor}")
        if rng.random() >= 0.03:
            continue
        covered = own if rng.random() < 0.25 else overdue
        total = sum(it.amount_cents for it in covered)
        amount = max(100, -(-total // rng.randint(3, 12) // 100) * 100)   # whole euros, rounded up
        n = -(-total // amount)                                            # the last one pays the rest
        agreed = start - dt.timedelta(days=rng.randint(3, 40))
        first = (start + dt.timedelta(days=rng.randint(0, 25)) if rng.random() < 2 / 3
                 else agreed + dt.timedelta(days=rng.randint(0, max(0, (start - agreed).days - 1))))
        rows.append({
            "plan_id": f"TZ-{start.year}-{len(rows) + 1:04d}", "debtor_id": debtor,
            "receivable_ids": None if covered is own else ",".join(it.receivable_id for it in covered),
            "agreed_on": agreed, "first_due": max(first, agreed), "n_instalments": n, "amount_cents": amount,
            "total_cents": total,
            "interval_months": 1, "grace_days": 14 if rng.random() < 0.2 else None,
        })
    schema = {"plan_id": pl.String(), "debtor_id": pl.String(), "receivable_ids": pl.String(), "agreed_on": pl.Date(),
              "first_due": pl.Date(), "n_instalments": pl.Int64(), "amount_cents": pl.Int64(),
              "total_cents": pl.Int64(), "interval_months": pl.Int64(), "grace_days": pl.Int64()}
    return pl.DataFrame(rows, schema=schema)


def plans_csv(plans: pl.DataFrame) -> bytes:
    """``instalment_plans.csv``: ``;``-separated, UTF-8 with BOM, ISO dates, cents, empty = not set."""
    buf = io.BytesIO()
    plans.write_csv(buf, separator=";", include_bom=True)
    return buf.getvalue()


__all__ = ["DEBTOR_WIDE", "ENDING", "OPEN_ENDED", "PLAN_COLUMNS", "add_dunning_fields", "instalment_plans",
           "plans_csv"]
