"""German texts for the Amtshilfe codes, for clerks and for the requesting creditors: why a request is
returned or held for a person, what the checks made of a message, what we report back.

The codes are vocabularies of :mod:`claims.vocab` (``amtshilfe.checks``, ``amtshilfe.feedback``); an unknown
code is shown as it is (:func:`outputs.dunning_texts.text_of`). The check texts go into the Rückgabe to the
creditor, so they name the rule, not our internals.
"""

from __future__ import annotations

from claims.vocab import (
    AmtshilfeFigure,
    ErsuchenCheck,
    ErsuchenCostItem,
    ErsuchenDecision,
    ErsuchenFeedback,
    ErsuchenOutcome,
    ErsuchenState,
)

#: Why a request is returned (Rückgabe) or held for a person (``answers.check``).
ERSUCHEN_CHECK_TEXT: dict[str, str] = {
    ErsuchenCheck.NO_AUTHORITY: "Ersuchende Behörde oder ihr Aktenzeichen nicht angegeben",
    ErsuchenCheck.NO_NOTICE: "Zugrunde liegender Bescheid fehlt oder ohne erlassende Behörde, Datum oder Aktenzeichen",
    ErsuchenCheck.NOT_ENFORCEABLE: "Keine Erklärung, dass die Forderungen vollstreckbar sind",
    ErsuchenCheck.NO_DEBTOR: "Schuldner nicht bestimmbar: Name oder Anschrift fehlt oder ist unvollständig",
    ErsuchenCheck.NOT_COMPETENT: "Nicht zuständig: Wohnsitz des Schuldners außerhalb unseres Bezirks",
    ErsuchenCheck.DUPLICATE: "Ersuchen mit diesem Aktenzeichen liegt bereits mit anderem Inhalt vor: bitte prüfen",
    ErsuchenCheck.SOURCE_CLOSED: "Rundfunkbeitrag: seit 1.1.2024 vollstreckt der WDR in NRW selbst "
                                 "(§ 3 Abs. 3 VO VwVG NRW)",
    ErsuchenCheck.NOTHING_OPEN: "Kein offener Betrag ersucht",
    ErsuchenCheck.SURCHARGE_DOUBT: "Säumniszuschlag entspricht nicht 1 %, mindestens 8 € "
                                   "(§ 11 Rundfunkbeitragssatzung): bitte prüfen",
    ErsuchenCheck.UNKNOWN_CASE: "Kein offenes Ersuchen dieses Gläubigers mit diesem Aktenzeichen",
    ErsuchenCheck.BELOW_PAID: "Änderung senkt eine Forderung unter den bereits gezahlten Betrag: bitte prüfen",
}

#: What the checks made of a message (``answers.outcome``).
ERSUCHEN_OUTCOME_TEXT: dict[str, str] = {
    ErsuchenOutcome.ACCEPTED: "Angenommen: Vollstreckungsfall angelegt",
    ErsuchenOutcome.RETURNED: "Zurückgegeben mit Grund",
    ErsuchenOutcome.FLAGGED: "Zur Prüfung durch die Sachbearbeitung",
    ErsuchenOutcome.REPEATED: "Wiederholte Lieferung gleichen Inhalts: ohne Wirkung",
    ErsuchenOutcome.APPLIED: "Änderung, Aussetzung oder Rücknahme übernommen",
}

#: What we report back to the creditor (``feedback.kind``).
ERSUCHEN_FEEDBACK_TEXT: dict[str, str] = {
    ErsuchenFeedback.ACCEPTED: "Ersuchen angenommen",
    ErsuchenFeedback.RETURNED: "Ersuchen zurückgegeben",
    ErsuchenFeedback.PAYMENT_FORWARDED: "Zahlung eingegangen und weitergeleitet",
    ErsuchenFeedback.SETTLED: "Forderung vollständig beglichen und weitergeleitet: erledigt",
    ErsuchenFeedback.UNCOLLECTIBLE: "Vollstreckung fruchtlos",
    ErsuchenFeedback.WITHDRAWN: "Rücknahme ausgeführt",
    ErsuchenFeedback.COST_INVOICE: "Kostenbeitrag und Auslagen des Zeitraums",
}

#: The items of a cost invoice (``cost_invoice.item``).
ERSUCHEN_COST_ITEM_TEXT: dict[str, str] = {
    ErsuchenCostItem.CONTRIBUTION: "Kostenbeitrag je Ersuchen (§ 5 Abs. 1 VO VwVG NRW)",
    ErsuchenCostItem.OUTLAY: "Auslagen",
}

#: A person's decision on a request (``ledger.amtshilfe_journal``; the review page ``/t/<tenant>/amtshilfe``).
ERSUCHEN_DECISION_TEXT: dict[str, str] = {
    ErsuchenDecision.ACCEPT: "Annehmen: Vollstreckungsfall mit Forderungen anlegen",
    ErsuchenDecision.RETURN: "Zurückgeben (Rückgabe mit Grund)",
    ErsuchenDecision.UNCOLLECTIBLE: "Fruchtlos: Vollstreckung erfolglos (Fruchtlosigkeitsbescheinigung)",
}

#: Where a request stands (``amtshilfe_requests.state``), for the review page.
ERSUCHEN_STATE_TEXT: dict[str, str] = {
    ErsuchenState.FLAGGED: "wartet auf Entscheidung",
    ErsuchenState.ACCEPTED: "angenommen, in Vollstreckung",
    ErsuchenState.SUSPENDED: "ausgesetzt",
    ErsuchenState.RETURNED: "zurückgegeben",
    ErsuchenState.WITHDRAWN: "zurückgenommen",
    ErsuchenState.SETTLED: "erledigt",
    ErsuchenState.UNCOLLECTIBLE: "fruchtlos",
}

#: The key figures of the foreign creditors' requests (``amtshilfe.key_figures``), as the report labels them.
AMTSHILFE_FIGURE_TEXT: dict[str, str] = {
    AmtshilfeFigure.RECEIVED: "Eingegangene fremde Ersuchen (ersuchter Betrag)",
    AmtshilfeFigure.ACCEPTED: "Angenommene Ersuchen (ersuchter Betrag)",
    AmtshilfeFigure.FLAGGED: "Zur Prüfung gestellte Ersuchen",
    AmtshilfeFigure.RETURNED: "Zurückgegebene Ersuchen",
    AmtshilfeFigure.WITHDRAWN: "Zurückgenommene Ersuchen",
    AmtshilfeFigure.SETTLED: "Erledigte Ersuchen (vollständig beigetrieben)",
    AmtshilfeFigure.UNCOLLECTIBLE: "Fruchtlos (uneinbringlich)",
    AmtshilfeFigure.COLLECTED: "Eingezogen (Zahlungen auf die Fälle)",
    AmtshilfeFigure.FORWARDED: "An die Gläubiger weitergeleitet",
    AmtshilfeFigure.COST_INVOICED: "Kostenbeiträge und Auslagen in Rechnung gestellt",
}

__all__ = ["AMTSHILFE_FIGURE_TEXT", "ERSUCHEN_CHECK_TEXT", "ERSUCHEN_COST_ITEM_TEXT", "ERSUCHEN_DECISION_TEXT",
           "ERSUCHEN_FEEDBACK_TEXT", "ERSUCHEN_OUTCOME_TEXT", "ERSUCHEN_STATE_TEXT"]
