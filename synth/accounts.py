"""The treasury's two bank accounts in the synthetic municipality (Sparkasse: MT940, Volksbank: camt.053)."""

from __future__ import annotations

from synth.bookings import Account

TREASURY_ACCOUNTS: dict[str, Account] = {
    "sparkasse": Account(
        bank="sparkasse", bank_name="Sparkasse KölnBonn", blz="37050198", bic="COLSDE33XXX",
        iban="DE63370501981900001234", owner="Stadtkasse Musterstadt",
    ),
    "volksbank": Account(
        bank="volksbank", bank_name="Volksbank Köln Bonn", blz="38060186", bic="GENODED1BRS",
        iban="DE87380601860004711000", owner="Stadtkasse Musterstadt",
    ),
}

#: SEPA creditor identifier (Gläubiger-ID) of the treasury, as the CRED+ of its own direct debits.
CREDITOR_ID = "DE98ZZZ09999999999"
