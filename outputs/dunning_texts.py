"""German texts for the dunning run's codes, for clerks: why a claim was skipped, why it is blocked,
which level a notice has.

The codes are the vocabularies of :mod:`claims.vocab` (stored in Parquet and the ledger); these are the
words a clerk reads on the review page and in reports. An unknown code is shown as it is (a newer run
may know a code this page does not), never hidden.
"""

from __future__ import annotations

from claims.vocab import BlockReason, DunningLevel, SkipReason

#: Why the run left a claim out (``skipped.reason``).
SKIP_REASON_TEXT: dict[str, str] = {
    SkipReason.BLOCKED: "Mahnsperre oder anderer Sperrgrund in Kraft",
    SkipReason.IN_ENFORCEMENT: "an die Vollstreckung abgegeben (offener Vollstreckungsfall)",
    SkipReason.PENDING_PAYMENT: "Ungeklärte Zahlung könnte vom Schuldner sein: zurückgestellt",
    SkipReason.ANCILLARY: "Nebenforderung: wird mit der Hauptforderung beigetrieben",
    SkipReason.PUBLIC_REMINDER: "Öffentliche Erinnerung statt Mahnung",
    SkipReason.BELOW_THRESHOLD: "Unter der Kleinbetragsgrenze",
    SkipReason.NOT_DUE: "Noch nicht fällig",
    SkipReason.SCHONFRIST: "Schonfrist (eine Woche) noch nicht abgelaufen",
    SkipReason.INTERVAL: "Letzte Mahnung liegt noch nicht lange genug zurück",
    SkipReason.LAST_LEVEL: "Alle Mahnstufen versandt: Abgabe an die Vollstreckung",
}

#: Why dunning is blocked (``block_reason``; the export's codes and the blocks set on the review page).
BLOCK_REASON_TEXT: dict[str, str] = {
    BlockReason.MAHNSPERRE: "Mahnsperre",
    BlockReason.STUNDUNG: "Stundung (§ 222 AO)",
    BlockReason.ADV: "Aussetzung der Vollziehung",
    BlockReason.INSOLVENZ: "Insolvenzverfahren",
    BlockReason.NIEDERSCHLAGUNG: "Niederschlagung (§ 261 AO)",
    BlockReason.RATENZAHLUNG: "Ratenzahlung vereinbart",
    BlockReason.VERSTORBEN: "Schuldner verstorben, Erben unklar",
    BlockReason.ADRESSE_UNBEKANNT: "Anschrift unbekannt",
}

#: A notice's level (``notices.level``).
LEVEL_TEXT: dict[str, str] = {
    DunningLevel.ZAHLUNGSERINNERUNG: "Zahlungserinnerung",
    DunningLevel.MAHNUNG: "Mahnung",
    DunningLevel.VOLLSTRECKUNGSANKUENDIGUNG: "Vollstreckungsankündigung",
    DunningLevel.OEFFENTLICHE_ERINNERUNG: "Öffentliche Erinnerung",
}


#: Why a released notice was taken off the letters at booking (``counts_json`` "dropped"): a skip reason of
#: the selection on the booking day, or one of these (``jobs.dunning.steps.reconcile``).
DROP_REASON_TEXT: dict[str, str] = {
    **SKIP_REASON_TEXT,
    "settled": "Inzwischen beglichen",
    "partly_paid": "Inzwischen teilweise bezahlt",
    "changed": "Beträge oder Mahnstufe haben sich seit der Vorbereitung geändert",
}


def text_of(table: dict[str, str], code: str | None) -> str:
    """The German text of ``code`` in ``table``; an unknown code as it is, a missing one empty."""
    return table.get(code or "", code or "")
