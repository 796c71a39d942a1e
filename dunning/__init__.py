"""The dunning run's law core (issue 15 §1–2): pure functions over frames, no store, no letters.

* :mod:`dunning.calendar` — NRW business days: the due-date shift and the bank lag;
* :mod:`dunning.fees` — the Mahngebühr of § 9 VO VwVG NRW;
* :mod:`dunning.surcharge` — Säumniszuschlag (§ 240 AO, § 18 GebG NRW) and § 288 BGB interest;
* :mod:`dunning.base_rate` — the dated Basiszinssatz table (§ 247 BGB);
* :mod:`dunning.select` — who is dunned at which level, who is skipped and why; whether the nights are
  complete;
* :mod:`dunning.instalments` — instalment agreements: kept or missed, the ``RATENZAHLUNG`` blocks;
* :mod:`dunning.key_figures` — the dunning key figures against the gpaNRW comparison values.

Frames in, frames out; money in integer cents, days as dates; every figure carries its rule
(``claims.vocab``: :class:`~claims.vocab.FeeRule`, :class:`~claims.vocab.SurchargeRule`,
:class:`~claims.vocab.SkipReason`). The settings are ``[dunning]`` of the tenant config
(:class:`claims.config.DunningSection`). docs/DUNNING.md describes the rules and their sources.

Import the functions from their modules (``from dunning.select import select``): the package does not
re-export ``select``, whose name would hide the module ``dunning.select``.
"""

from typing import Final

#: The Polars engine of every ``collect`` here. The plans are many small steps over one frame (joins
#: with small tables, when/then chains); the in-memory engine ran them with 40 % less CPU than the
#: streaming default of Polars 2 (benchmarks/bench_dunning.py, 200,000 claims).
ENGINE: Final = "in-memory"
