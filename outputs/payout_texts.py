"""German texts for the payout run's codes, for clerks: why a refund was not paid out, why it was paid
without set-off, what a set-off allocation is.

The codes are vocabularies of :mod:`claims.vocab`; an unknown code is shown as it is
(:func:`outputs.dunning_texts.text_of`).
"""

from __future__ import annotations

from claims.vocab import PayoutSkip, PayoutSource, SetoffSkip

#: Why the payout run did not pay a refund out (``skipped.reason``).
PAYOUT_SKIP_TEXT: dict[str, str] = {
    PayoutSkip.ALREADY_PAID: "Bereits ausgezahlt oder verrechnet",
    PayoutSkip.IBAN_INVALID: "IBAN ungültig: keine Auszahlung, bitte Erstattung neu entscheiden",
    PayoutSkip.NO_PAYEE_NAME: "Kein Name des Zahlungsempfängers in der Buchung",
    PayoutSkip.PAYEE_NAME_INVALID: "Name des Empfängers mit Zeichen außerhalb des SEPA-Zeichensatzes oder zu lang",
    PayoutSkip.REMITTANCE_TOO_LONG: "Verwendungszweck mit den Kassenzeichen länger als 140 Zeichen",
    PayoutSkip.SET_OFF_IN_FULL: "Vollständig mit fälligen Forderungen verrechnet: keine Überweisung",
    PayoutSkip.PAYEE_BLOCKED: "IBAN für Auszahlungen gesperrt (frühere Überweisung zurückgekommen): "
                              "bitte Erstattung mit neuer IBAN entscheiden",
    PayoutSkip.CREDITOR_UNKNOWN: "Gläubiger ohne Eintrag im Gläubigerverzeichnis ([[creditors]]): keine Weiterleitung",
    PayoutSkip.REVERSED_AFTER_FORWARD: "Nach der Weiterleitung storniert: mehr weitergeleitet als eingegangen, "
                                       "keine Überweisung bis zum Ausgleich (ggf. Rückforderung beim Gläubiger)",
    PayoutSkip.CREDITOR_ACCOUNT_CONFLICT: "Offene Ersuchen des Gläubigers nennen verschiedene Konten: keine "
                                          "Weiterleitung, bitte Konto klären und in [[creditors]] eintragen",
}

#: Why a refund was paid out without set-off (``setoff_skip``).
SETOFF_SKIP_TEXT: dict[str, str] = {
    SetoffSkip.UNKNOWN_PAYER: "Keine Verrechnung: Zahlung keinem Schuldner zugeordnet",
    SetoffSkip.SEVERAL_DEBTORS: "Keine Verrechnung: Zahlung betraf Forderungen mehrerer Schuldner",
}

#: What the money paid out comes from (``payouts.source``).
PAYOUT_SOURCE_TEXT: dict[str, str] = {
    PayoutSource.REFUND: "Erstattung (Entscheidung der Sachbearbeitung)",
    PayoutSource.FORWARD: "Weiterleitung an fremden Gläubiger (Amtshilfe)",
}

#: The allocation rule of a set-off (``allocations.rule``), as the Klärungs- and Kontenansicht shows it.
SET_OFF_RULE_TEXT = "Verrechnung (Aufrechnung) mit einer Erstattung"
