"""German texts for the enforcement hand-off's codes, for clerks and the enforcement office: why a claim was
not handed over, why no Mahnung was needed, what the office reported back, where a claim stands in its
limitation period and in the valuation of receivables.

The codes are the vocabularies of :mod:`claims.vocab` (stored in Parquet and the ledger); an unknown code is
shown as it is (``outputs.dunning_texts.text_of``), never hidden.
"""

from __future__ import annotations

from claims.vocab import (
    AllowanceMethod,
    ClaimStanding,
    EnforcementOutcome,
    HandoffSkip,
    Interruption,
    LimitationState,
    MahnungWaiver,
    OutcomeHold,
)

#: Why the hand-off left a claim out (``skipped.reason`` of ``enforcement.select``).
HANDOFF_SKIP_TEXT: dict[str, str] = {
    HandoffSkip.IN_ENFORCEMENT: "Bereits in einem offenen Vollstreckungsfall",
    HandoffSkip.NOTHING_OPEN: "Nichts mehr offen",
    HandoffSkip.MAIN_CLAIM_CLOSED: "Nebenforderung, deren Hauptforderung nicht mehr offen ist: bitte prüfen",
    HandoffSkip.BLOCKED: "Sperre in Kraft (Mahnsperre, Stundung, AdV, Insolvenz …)",
    HandoffSkip.BLOCKED_SINCE_MAHNUNG: "Seit der letzten Mahnung gesperrt gewesen: erst erneut mahnen",
    HandoffSkip.PENDING_PAYMENT: "Ungeklärte Zahlung könnte vom Schuldner sein: zurückgestellt",
    HandoffSkip.IDENTITY_INCOMPLETE: "Name oder Anschrift des Schuldners fehlt oder ist unvollständig",
    HandoffSkip.IDENTITY_CONFLICT: "Widersprüchliche Geburtsdaten beim Schuldner",
    HandoffSkip.NO_MAHNUNG: "Keine Mahnung nach Fälligkeit und kein Verzicht auf die Mahnung vermerkt",
    HandoffSkip.SCHONFRIST: "Schonfrist (§ 6 Abs. 1 VwVG NRW) noch nicht abgelaufen",
    HandoffSkip.MAHNFRIST: "Mahnfrist mit Post- und Bankpuffer noch nicht abgelaufen",
    HandoffSkip.BELOW_THRESHOLD: "Unter der Abgabegrenze für die Vollstreckung",
    HandoffSkip.MAIN_CLAIM_SKIPPED: "Nebenforderung: geht nur mit ihrer Hauptforderung in die Vollstreckung",
    HandoffSkip.NO_COMPETENT_AUTHORITY: ("Schuldner wohnt außerhalb des Bezirks, keine zuständige Behörde im "
                                         "Verzeichnis: Amtshilfeersuchen zurückgehalten, bitte prüfen"),
}

#: Why no Mahnung was needed (``mahnung_waiver``; DOMAIN.md §1.3).
MAHNUNG_WAIVER_TEXT: dict[str, str] = {
    MahnungWaiver.DISPROPORTIONATE: "Kosten der Mahnung stehen außer Verhältnis zur Forderung",
    MahnungWaiver.WITHOUT_MEANS: "Schuldner offensichtlich mittellos",
    MahnungWaiver.ADDRESS_UNKNOWN: "Anschrift unbekannt",
    MahnungWaiver.CONTINUING_GARNISHMENT: "Dauerpfändung läuft bereits",
    MahnungWaiver.PUBLIC_REMINDER: "Öffentliche Erinnerung bekannt gemacht",
    MahnungWaiver.REFUSED: "Schuldner hat ernsthaft und endgültig die Zahlung verweigert",
}

#: What the enforcement office reported (``outcome``).
OUTCOME_TEXT: dict[str, str] = {
    EnforcementOutcome.PAID: "Bezahlt",
    EnforcementOutcome.PARTLY_PAID: "Teilweise bezahlt",
    EnforcementOutcome.INSTALMENTS: "Ratenzahlung vereinbart",
    EnforcementOutcome.UNCOLLECTIBLE: "Fruchtlos / uneinbringlich",
    EnforcementOutcome.MOVED: "Schuldner verzogen",
    EnforcementOutcome.RETURNED: "Ohne Ergebnis zurückgegeben",
    EnforcementOutcome.WRITTEN_OFF: "Niedergeschlagen (§ 261 AO)",
}

#: Where a claim stands in its limitation period (``limitation_state``).
LIMITATION_TEXT: dict[str, str] = {
    LimitationState.RUNNING: "Verjährung läuft",
    LimitationState.WARNING: "Verjährung droht: handeln",
    LimitationState.EXPIRED: "Verjährt (Anspruch erloschen, § 47 AO)",
}

#: What interrupted the limitation period (``kind``).
INTERRUPTION_TEXT: dict[str, str] = {
    Interruption.MAHNUNG: "Schriftliche Zahlungsaufforderung (Mahnung)",
    Interruption.STUNDUNG: "Stundung",
    Interruption.ADV: "Aussetzung der Vollziehung",
    Interruption.ENFORCEMENT: "Vollstreckungsmaßnahme",
}

#: A claim's state in the valuation of receivables (``standing``).
STANDING_TEXT: dict[str, str] = {
    ClaimStanding.OPEN: "Offen",
    ClaimStanding.IN_ENFORCEMENT: "In der Vollstreckung",
    ClaimStanding.INSTALMENTS: "Ratenzahlung",
    ClaimStanding.UNCOLLECTIBLE: "Uneinbringlich / niedergeschlagen",
}

#: How a claim's valuation allowance is set (``method`` of ``enforcement.valuation``).
ALLOWANCE_METHOD_TEXT: dict[str, str] = {
    AllowanceMethod.INDIVIDUAL: "Einzelwertberichtigung (uneinbringlich)",
    AllowanceMethod.FLAT: "Pauschalwertberichtigung (nach Altersklasse)",
    AllowanceMethod.TIME_BARRED: "Verjährt: Abschreibung (§ 47 AO)",
}

#: Why an outcome of the enforcement office was held for a clerk (``hold_reason``).
OUTCOME_HOLD_TEXT: dict[str, str] = {
    OutcomeHold.CHANGED: "Dieselbe Rückmeldung kam schon einmal mit anderem Inhalt: bitte mit der Vollstreckungsstelle klären",
    OutcomeHold.CASE_UNKNOWN: "Aktenzeichen ist kein von uns abgegebener Vollstreckungsfall",
    OutcomeHold.OTHER_OFFICE: "Der Fall wurde einer anderen Vollstreckungsstelle übergeben",
    OutcomeHold.KASSENZEICHEN_NOT_IN_CASE: "Das Kassenzeichen gehört nicht zu diesem Vollstreckungsfall",
}
