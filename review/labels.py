"""German labels for the codes the review pages show (docs/GLOSSARY.md is the source of the words).

Codes stay English snake_case in files and the journal; a clerk reads German. Dates are ``dd.mm.yyyy``,
times are Europe/Berlin (the journal stores UTC), amounts use :func:`review.amounts.format_cents`.

>>> de_date("2026-03-02"), de_time("2026-03-02T23:30:00+00:00")
('02.03.2026', '03.03.2026 00:30')
>>> label("claim_type", "HUNDESTEUER"), label("role", "supervisor"), label("claim_type", "KURTAXE")
('Hundesteuer', 'Aufsicht', 'KURTAXE')
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from claims.vocab import ClaimType, DecisionAction, DecisionState, ItemState, Rule
from outputs.amtshilfe_texts import ERSUCHEN_CHECK_TEXT, ERSUCHEN_DECISION_TEXT, ERSUCHEN_STATE_TEXT
from outputs.klaerungsliste import ALL_REASON_TEXT

BERLIN = ZoneInfo("Europe/Berlin")

ROLE_TEXT: dict[str, str] = {"clerk": "Sachbearbeitung", "supervisor": "Aufsicht", "auditor": "Prüfung",
                             "vollstreckung": "Vollstreckung"}

CLAIM_TYPE_TEXT: dict[str, str] = {
    ClaimType.GRUNDSTEUER: "Grundsteuer", ClaimType.GEWERBESTEUER: "Gewerbesteuer", ClaimType.ABFALL: "Abfallgebühr",
    ClaimType.HUNDESTEUER: "Hundesteuer", ClaimType.KITA: "Kita-Beitrag", ClaimType.BUSSGELD: "Bußgeld",
    ClaimType.ZWANGSGELD: "Zwangsgeld", ClaimType.RUNDFUNK_AMTSHILFE: "Rundfunkbeitrag (Amtshilfe)",
    ClaimType.MAHNGEBUEHR: "Mahngebühr", ClaimType.SAEUMNISZUSCHLAG: "Säumniszuschlag",
    ClaimType.VERSPAETUNGSZUSCHLAG: "Verspätungszuschlag", ClaimType.KOSTEN: "Kosten", ClaimType.ZINSEN: "Zinsen",
    ClaimType.VERGNUEGUNGSTEUER: "Vergnügungsteuer", ClaimType.ZWEITWOHNUNGSTEUER: "Zweitwohnungsteuer",
    ClaimType.STRASSENREINIGUNG: "Straßenreinigung", ClaimType.ABWASSER: "Abwasser",
    ClaimType.KAG_BEITRAG: "Beitrag nach KAG", ClaimType.VERWALTUNGSGEBUEHR: "Verwaltungsgebühr",
    ClaimType.MAIN: "Hauptforderung",
}

RULE_TEXT: dict[str, str] = {
    Rule.REFERENCE_EXACT: "Kassenzeichen genau", Rule.REFERENCE_WINDOW: "Kassenzeichen im Text",
    Rule.REFERENCE_LETTERS: "Kassenzeichen mit Buchstaben statt Ziffern",
    Rule.REFERENCE_TYPO: "Kassenzeichen mit Tippfehler", Rule.IBAN_AMOUNT: "IBAN und Betrag",
    Rule.ORDER_AO225: "Tilgungsreihenfolge § 225 AO", Rule.ORDER_BGB367: "Tilgungsreihenfolge § 367 BGB",
    Rule.ORDER_MIXED: "Tilgungsreihenfolge (gemischt)", Rule.PAYER_DESIGNATION: "Tilgungsbestimmung des Zahlers",
    Rule.DD_RETURN: "Rücklastschrift", Rule.DIRECT_DEBIT: "Lastschrifteinzug", Rule.CLERK: "Sachbearbeitung",
    Rule.LEARNED_RULE: "gelernte Regel", Rule.SET_OFF: "Verrechnung (Aufrechnung)",
}

#: the matcher's ``why`` of a suggestion is a rule, or one of these (matching/suggest.py)
SUGGESTION_TEXT: dict[str, str] = {**RULE_TEXT, "name_amount": "Name und Betrag"}

ACTION_TEXT: dict[str, str] = {DecisionAction.ASSIGN: "Zuordnung", DecisionAction.REFUND: "Erstattung",
                               DecisionAction.PARK: "Verwahrgeld", DecisionAction.RETRY: "Neuer Abgleich"}

DECISION_STATE_TEXT: dict[str, str] = {DecisionState.PENDING: "wartet auf Freigabe", DecisionState.EFFECTIVE: "wirksam",
                                       DecisionState.WITHDRAWN: "zurückgezogen",
                                       DecisionState.SUPERSEDED: "ersetzt"}

ITEM_STATE_TEXT: dict[str, str] = {ItemState.OPEN: "offen", ItemState.PARKED: "Verwahrgeld",
                                   ItemState.RESOLVED: "erledigt"}

_TABLES: dict[str, dict[str, str]] = {
    "role": ROLE_TEXT, "claim_type": CLAIM_TYPE_TEXT, "rule": RULE_TEXT, "why": SUGGESTION_TEXT, "action": ACTION_TEXT,
    "decision_state": DECISION_STATE_TEXT, "item_state": ITEM_STATE_TEXT, "reason": ALL_REASON_TEXT,
    "ersuchen_state": ERSUCHEN_STATE_TEXT, "ersuchen_check": ERSUCHEN_CHECK_TEXT,
    "ersuchen_decision": ERSUCHEN_DECISION_TEXT,
}


def label(kind: str, code: object) -> str:
    """The German label of ``code`` in vocabulary ``kind``; an unknown code is shown as it is."""
    text = "" if code is None else str(code)
    return _TABLES[kind].get(text, text)


def de_date(value: object) -> str:
    """A date (or ISO date text, or datetime) as ``dd.mm.yyyy``; empty for ``None``, unreadable text as is."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return f"{value:%d.%m.%Y}"
    try:
        return f"{date.fromisoformat(str(value)[:10]):%d.%m.%Y}"
    except ValueError:
        return str(value)


def de_time(value: object) -> str:
    """An ISO timestamp (UTC when it names no zone) as ``dd.mm.yyyy HH:MM`` in Europe/Berlin."""
    if value is None or value == "":
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return f"{moment.astimezone(BERLIN):%d.%m.%Y %H:%M}"


def de_epoch(seconds: float | None) -> str:
    """Epoch seconds (the soft locks' times) as ``dd.mm.yyyy HH:MM`` in Europe/Berlin."""
    return "" if seconds is None else f"{datetime.fromtimestamp(seconds, BERLIN):%d.%m.%Y %H:%M}"
