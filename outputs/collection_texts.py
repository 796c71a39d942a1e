"""German texts for the collection run's codes, for clerks: why a claim was not collected, a mandate's
state and problem, what a return does, why a batch credit is held, why a bank row of our payouts is held.

The codes are vocabularies of :mod:`claims.vocab`; an unknown code is shown as it is
(:func:`outputs.dunning_texts.text_of`). Return reason codes (AC04, MS03 …) are the banks' and shown
with their code.
"""

from __future__ import annotations

from claims.vocab import CollectionHold, CollectSkip, MandateProblem, MandateState, PayoutHold, ReturnAction

#: Why the collection run left a claim out (``skipped.reason``).
COLLECT_SKIP_TEXT: dict[str, str] = {
    CollectSkip.NO_MANDATE: "Kein SEPA-Mandat: Zahlung per Überweisung",
    CollectSkip.FOREIGN_CREDITOR: "Forderung eines anderen Gläubigers (Amtshilfe): kein Einzug",
    CollectSkip.MANDATE_REFUSED: "Mandatsdaten unbrauchbar: bitte klären",
    CollectSkip.MANDATE_BLOCKED: "Mandat nach Rücklastschrift gesperrt",
    CollectSkip.MANDATE_EXPIRED: "Mandat erloschen (36 Monate nicht genutzt oder Einmalmandat verbraucht)",
    CollectSkip.CLAIM_BLOCKED: "Forderung gesperrt (Stundung, Insolvenz, Ratenzahlung o. Ä.)",
    CollectSkip.NOTHING_OPEN: "Kein offener Betrag",
    CollectSkip.NOT_DUE: "Noch nicht fällig zum Einzugstermin",
    CollectSkip.OVERDUE: "Fälligkeit liegt zu weit zurück: Mahnverfahren statt Einzug",
    CollectSkip.PRENOTICE_LATE: "Vorabankündigung (Bescheid) kam zu spät für diesen Einzugstermin",
    CollectSkip.ALREADY_COLLECTED: "Bereits eingezogen",
    CollectSkip.RETURNED: "Nach Rücklastschrift kein erneuter Einzug: Mahnverfahren",
    CollectSkip.REFERENCE_TOO_LONG: "Kassenzeichen zu lang für die Ende-zu-Ende-Referenz (35 Zeichen)",
}

#: A mandate's state (``state``).
MANDATE_STATE_TEXT: dict[str, str] = {
    MandateState.ACTIVE: "Aktiv",
    MandateState.BLOCKED: "Gesperrt",
    MandateState.EXPIRED: "Erloschen",
    MandateState.REFUSED: "Abgelehnt (Daten unbrauchbar)",
}

#: Why a mandate is refused or expired (``state_reason``, when not a return code).
MANDATE_PROBLEM_TEXT: dict[str, str] = {
    MandateProblem.TWO_DEBTORS: "Eine Mandatsreferenz bei zwei Schuldnern",
    MandateProblem.NO_IBAN: "Keine IBAN zum Mandat",
    MandateProblem.IBAN_UNCLEAR: "Mehrere IBANs zum Mandat",
    MandateProblem.NO_MANDATE_DATE: "Datum der Unterschrift fehlt",
    MandateProblem.MANDATE_DATE_FUTURE: "Datum der Unterschrift liegt in der Zukunft",
    MandateProblem.UNUSED: "36 Monate ohne Einzug (SEPA-Regelwerk)",
    MandateProblem.ONE_OFF_USED: "Einmalmandat bereits genutzt",
}

#: What a return reason does (``[collection] return_actions``).
RETURN_ACTION_TEXT: dict[str, str] = {
    ReturnAction.BLOCK_MANDATE: "Mandat sperren",
    ReturnAction.RETRY_ONCE: "Einmal erneut einziehen",
    ReturnAction.NONE: "Forderung wieder offen, Mahnverfahren",
}

#: Why a batch credit (Sammelgutschrift) of our own collection was not broken down.
COLLECTION_HOLD_TEXT: dict[str, str] = {
    CollectionHold.BATCH_AMOUNT_MISMATCH: "Sammelgutschrift weicht von der Summe der Einzüge ab",
    CollectionHold.BATCH_DUPLICATE: "Sammelgutschrift bereits verbucht",
}

#: The banks' return reason codes (ISO ExternalReturnReason) in German, after DOMAIN.md §3.4; the page
#: shows the code beside the text, and an unknown code as it is (``text_of``).
RETURN_REASON_TEXT: dict[str, str] = {
    "AC01": "IBAN fehlerhaft",
    "AC04": "Konto erloschen",
    "AC06": "Konto gesperrt",
    "AG01": "Lastschrift auf diesem Kontotyp nicht zulässig",
    "AM04": "Deckung unzureichend",
    "AM05": "Doppelte Lastschrift",
    "MD01": "Kein gültiges Mandat (oder nicht autorisierte Lastschrift)",
    "MD02": "Mandatsdaten fehlen oder sind falsch",
    "MD06": "Erstattung auf Verlangen des Zahlers (Widerspruch binnen 8 Wochen)",
    "MD07": "Zahler verstorben",
    "MS02": "Widerspruch des Zahlers",
    "MS03": "Ohne Angabe von Gründen (auch: keine Deckung, Zahler verstorben)",
    "RR01": "Regulatorische Gründe: Kontoangaben des Zahlers fehlen",
    "RR02": "Regulatorische Gründe: Name oder Anschrift des Zahlers fehlt",
    "RR03": "Regulatorische Gründe: Name oder Anschrift des Zahlungsempfängers fehlt",
    "RR04": "Regulatorische Gründe",
    "SL01": "Sonderdienst der Zahlerbank (z. B. Lastschriftsperre)",
}

#: Why a bank row of our own payouts (the outgoing transfer, or its return) was held for a clerk.
PAYOUT_HOLD_TEXT: dict[str, str] = {
    PayoutHold.PAYOUT_AMOUNT_MISMATCH: "Abbuchung der Auszahlung weicht vom Auszahlungsbetrag (Sammler: von der Summe) ab",
    PayoutHold.PAYOUT_DUPLICATE: "Auszahlung bereits abgebucht: zweite Abbuchung",
    PayoutHold.PAYOUT_RETURN_UNMATCHED: "Rücküberweisung zu unserer Auszahlung mit anderem Betrag",
    PayoutHold.PAYOUT_RETURN_DUPLICATE: "Auszahlung bereits zurückgekommen: zweite Rücküberweisung",
}
