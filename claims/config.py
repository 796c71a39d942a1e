"""The tenant config: one TOML file per tenant (Mandant), read once, typed, the same for every command.

``kasse nightly``, ``kasse match --config``, ``kasse demo``, ``kasse serve``, ``kasse review`` and the
review page all call :func:`load_tenant_config` and read the one :class:`TenantConfig` it returns. Each
TOML table is a model below (pydantic, ``extra="forbid"``): the **defaults live in the models and
nowhere else**, an unknown key or a wrong type is a :class:`ConfigError` naming the file, the key, what
was expected and what was found. Every key is listed in docs/CONFIG.md (a test keeps both in step).

``extends = "other.toml"`` at the top reads that file first (relative to this one; chains are allowed,
cycles and chains deeper than :data:`MAX_EXTENDS` are refused) and lays this file over it, table by
table; ``[[accounts]]`` is replaced as a whole. Every file is checked on its own first, so an error
names the file that holds the key. A relative path is relative to the folder of the file that sets it.

>>> cfg = tenant_config({"tenant": {"id": "stadt"}, "reference": {"digits": 10}}, base=Path("/srv"))
>>> cfg.tenant, cfg.reference.digits, cfg.matching.suggestions, str(cfg.ledger)
('stadt', 10, 3, '/srv/stadt.duckdb')
"""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError, field_validator

from claims.errors import ConfigError
from claims.money import AmountError, parse_eur
from claims.vocab import BlockReason, ClaimType, DunningLevel, ReturnAction, SurchargeRule

#: Claim class of every claim type an allocation order does not name (the main claim).
MAIN = ClaimType.MAIN
#: How many files an ``extends`` chain may hold (the file itself included).
MAX_EXTENDS = 8
#: Keys that once existed; a file still holding one is told why it went.
RETIRED: dict[tuple[str, ...], str] = {}

Count = Annotated[int, Strict(), Field(gt=0)]
Bool = Annotated[bool, Strict()]
Text = Annotated[str, Strict()]
Name = Annotated[str, Strict(), Field(min_length=1)]
Score = Annotated[float, Field(ge=0, le=100)]
Words = tuple[Annotated[str, Strict()], ...]


class Section(BaseModel):
    """A table of the tenant TOML: unknown keys refused, values immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _upper(value: Any) -> Any:
    return tuple(v.upper() for v in value) if isinstance(value, list | tuple) and \
        all(isinstance(v, str) for v in value) else value


class TenantSection(Section):
    """``[tenant]``: who this is."""

    id: Name = "default"
    name: Text | None = None
    #: inhabitants (Einwohner) for the key figures per 10,000 inhabitants; None: those figures stay empty
    inhabitants: Count | None = None


class PathsSection(Section):
    """``[paths]``: where the tenant's files live (relative to the file that sets them)."""

    #: None: one file per tenant, ``<tenant id>.duckdb`` beside the config (tenants never wait for each
    #: other's write lock); set it (e.g. ``"../kasse.duckdb"``) for a file several tenants share
    ledger: Name | None = None
    tenant_dir: Name | None = None       # None: a folder named like the tenant id, beside the config
    state_dir: Name | None = None        # None: ``state`` beside the ledger file
    reports: Name = "reports"


class IngestSection(Section):
    """``[ingest]``: what the nightly run reads from the inbox."""

    #: a bank file above this many MiB is rejected unread (the default bounds every input's memory under
    #: 1 GB; a bigger delivery needs about 10 times its size as MT940, 4 times as camt: docs/INGEST.md)
    max_file_mib: Count = 64


class ScheduleSection(Section):
    """``[schedule]``: when ``kasse serve`` runs the night (and the weekly dunning run, if set)."""

    nightly: Name = "0 2 * * *"
    #: the weekly dunning run (prepares; books once released): off unless set, e.g. "0 6 * * 2"
    dunning: Name | None = None
    #: the SEPA collection run (prepares the next collection date; books released runs): off unless set
    collect: Name | None = None
    #: the SEPA payout run (set-off, then refunds by pain.001; books released runs): off unless set
    payout: Name | None = None
    #: the enforcement hand-off (prepares the day's batch; books released runs): off unless set
    handoff: Name | None = None
    timezone: Name = "Europe/Berlin"


class ReferenceSection(Section):
    """``[reference]``: the Kassenzeichen grammar."""

    digits: Annotated[int, Strict(), Field(ge=4)] = 12
    check_digit: Literal["mod11", "mod10", "none"] = "mod11"
    prefixes: Words = ("KASSENZEICHEN", "KASSENZ", "KZ-NR", "KZNR", "KZ", "AZ", "AKTENZEICHEN", "BUCHUNGSZEICHEN")
    max_run: Count = 36

    _up = field_validator("prefixes", mode="before")(_upper)


class MatchingSection(Section):
    """``[matching]``: which rules run and how much they may do."""

    typo_repair: Bool = True
    iban_amount: Bool = True
    suggestions: Count = 3
    name_min_score: Score = 80.0
    skip_tx_codes: Words = ("8",)
    return_tx_codes: Words = ("108", "109", "193")
    #: clerk decisions alike (same payer IBAN, same debtor, no other debtor) before a rule is proposed
    learned_rule_min_decisions: Annotated[int, Strict(), Field(ge=2)] = 3
    #: days an approved learned rule stays in force (its valid_until), unless expired or revoked earlier
    learned_rule_valid_days: Count = 365
    #: a payment from abroad (or with the banks' charges reported) short of its Kassenzeichen's open
    #: amount by at most ``charges_max`` and at most this share of it (percent) is booked as received.
    #: The banks' fees are flat (a few euros to about 25 €, whatever the amount): on a 35 € fine they
    #: are 10 % and more, so the share only keeps a payment of less than half the claim from counting
    charges_max_percent: Score = 50.0
    charges_max: int | str = "25,00"

    @field_validator("name_min_score", "charges_max_percent", mode="before")
    @classmethod
    def _number(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number from 0 to 100, got {value!r}")
        return value

    @field_validator("charges_max", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        if isinstance(value, str):
            try:
                if parse_eur(value) >= 0:
                    return value
            except AmountError:
                pass
        raise ValueError(f'expected an amount as text like "25,00" or whole euros, got {value!r}')

    @property
    def charges_max_cents(self) -> int:
        """``charges_max`` in cents (whole euros, or text like ``25,00``)."""
        return self.charges_max * 100 if isinstance(self.charges_max, int) else parse_eur(self.charges_max)


class AllocationSection(Section):
    """``[allocation]``: the payer's designation of amounts, and the class order inside a payment's
    designated items, per law."""

    honour_designation: Bool = True      # amounts written next to the Kassenzeichen decide (§ 225 Abs. 1 AO)

    public: Words = (
        "BUSSGELD", "ZWANGSGELD", MAIN, "KOSTEN", "MAHNGEBUEHR", "VERSPAETUNGSZUSCHLAG", "ZINSEN", "SAEUMNISZUSCHLAG",
    )
    private: Words = ("KOSTEN", "MAHNGEBUEHR", "ZINSEN", "SAEUMNISZUSCHLAG", MAIN)

    _up = field_validator("public", "private", mode="before")(_upper)


class ReviewSection(Section):
    """``[review]``: the review page (the amount text is read by ``review.config``)."""

    four_eyes_above: int | str = "0,00"
    page_size: Count = 50
    session_hours: Count = 8
    secret_file: Name | None = None
    https_only: Bool = False
    trusted_proxies: Words = ()

    @field_validator("four_eyes_above", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        raise ValueError(f'expected an amount as text like "1.000,00" or whole euros, got {value!r}')

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for v in value:
            try:
                ipaddress.ip_network(v.strip(), strict=False)
            except ValueError:
                raise ValueError(f"expected IP addresses or networks, got {v!r}") from None
            out.append(v.strip())
        return tuple(out)


def _cents(value: Any) -> Any:
    """An amount as German text (``"10,00"``) or whole euros (``10``) -> integer cents."""
    if isinstance(value, str):
        try:
            return parse_eur(value)
        except AmountError as exc:
            raise ValueError(str(exc)) from None
    if isinstance(value, int) and not isinstance(value, bool):
        return value * 100
    raise ValueError(f'expected an amount as text like "10,00" or whole euros, got {value!r}')


Cents = Annotated[int, BeforeValidator(_cents), Field(ge=0)]
Days = Annotated[int, Strict(), Field(ge=0)]

#: Which law sets the late-payment charge of a claim type (DOMAIN.md §1.6); a type not listed takes
#: ``[dunning] surcharge_default``. Nebenforderungen never carry one, whatever this says.
SURCHARGE_TYPES: dict[str, SurchargeRule] = {
    **{t: SurchargeRule.AO_240 for t in (            # AO directly (Realsteuern) or via § 12 KAG NRW
        "GRUNDSTEUER", "GEWERBESTEUER", "HUNDESTEUER", "VERGNUEGUNGSTEUER", "ZWEITWOHNUNGSTEUER",
        "ABFALL", "STRASSENREINIGUNG", "ABWASSER", "KAG_BEITRAG")},
    "VERWALTUNGSGEBUEHR": SurchargeRule.GEBG_18,     # § 18 GebG NRW
    "BUSSGELD": SurchargeRule.NONE,                  # OWiG: none
    "ZWANGSGELD": SurchargeRule.NONE,
    "KITA": SurchargeRule.NONE,                      # depends on the local statute [UNCONFIRMED]: set it
    "RUNDFUNK_AMTSHILFE": SurchargeRule.NONE,        # the requesting creditor's charges, not ours
}


class BaseRate(Section):
    """One row of the Basiszinssatz table (§ 247 BGB): the rate in per cent from ``since`` on."""

    since: date
    percent: float


class DunningSection(Section):
    """``[dunning]``: the weekly dunning run's law and practice (docs/DUNNING.md, DOMAIN.md §1, §9.2)."""

    levels: tuple[DunningLevel, ...] = (DunningLevel.MAHNUNG, DunningLevel.VOLLSTRECKUNGSANKUENDIGUNG)
    reminder_days_before_due: Days = 7
    interval_days: Days = 14
    schonfrist_days: Days = 7
    threshold: Cents = 1000
    bank_lag_days: Days = 2
    holiday_region: Name = "NW"
    shift_due_date: Bool = True
    public_reminder_types: Words = ()
    dun_ancillary: Bool = False
    fee_base: Cents = 600
    fee_threshold: Cents = 5000
    fee_rate_percent: Annotated[float, Field(ge=0, le=100)] = 1.0
    fee_cap: Cents = 5200
    fee_basis: Literal["principal", "principal_and_surcharge"] = "principal"
    fee_rounding: Literal["half_up", "down"] = "half_up"
    surcharge_types: dict[str, SurchargeRule] = Field(default_factory=lambda: dict(SURCHARGE_TYPES))
    surcharge_default: SurchargeRule = SurchargeRule.NONE
    tolerance_days: Days = 3
    gebg_grace_months: Days = 1
    interest_points: Annotated[float, Field(ge=0, le=100)] = 5.0
    base_rates: tuple[BaseRate, ...] = ()
    instalment_grace_days: Days = 7      # an instalment paid this many days late is still on time
    #: the instalment plans file (CSV or Parquet, dunning.instalments.read_plans), relative to the tenant
    #: folder; absent file: no plans
    instalment_plans: Annotated[str, Field(min_length=1)] = "instalment_plans.csv"
    # the letters (dunning.notices): one notice per debtor and level, or per claim; the payment deadline
    letter_grouping: Literal["debtor", "claim"] = "debtor"
    mahnfrist_days: Days = 7
    postal_buffer_days: Days = 3
    #: leading digits of the Kassenzeichen the dunning run gives its fees (jobs/dunning/charges.py)
    fee_kassenzeichen_prefix: Annotated[str, Field(pattern=r"^[0-9]{1,6}$")] = "9"

    _up = field_validator("public_reminder_types", mode="before")(_upper)

    @field_validator("levels")
    @classmethod
    def _sequence(cls, value: tuple[DunningLevel, ...]) -> tuple[DunningLevel, ...]:
        order = DunningLevel.sequence()
        if DunningLevel.MAHNUNG not in value or any(v not in order for v in value) or \
                list(value) != sorted(set(value), key=order.index):
            raise ValueError(f"expected a subsequence of {', '.join(order)} holding mahnung, got {[str(v) for v in value]}")
        return value

    @field_validator("surcharge_types", mode="before")
    @classmethod
    def _merge_types(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {**SURCHARGE_TYPES, **{str(k).upper(): v for k, v in value.items()}}


class LettersSection(Section):
    """``[letters]``: the sender and the account on the dunning letters (outputs/dunning_letters.py).

    Every key may be left out: the sender is "Stadtkasse" and the tenant's name, the account to pay to is
    the first ``[[accounts]]`` (its BIC and bank name with it), the account holder is the sender."""

    sender_name: Text | None = None
    sender_street: Text = ""
    sender_postcode: Text = ""
    sender_city: Text = ""
    contact: Words = ()                   # lines of the letter's information block: phone, e-mail, hours
    pay_to_iban: Text | None = None
    bic: Text | None = None
    bank_name: Text | None = None
    account_holder: Text | None = None


#: What a direct-debit return reason does (DOMAIN.md §3.4); a code not listed only reopens the claim.
RETURN_ACTIONS: dict[str, ReturnAction] = {
    **{code: ReturnAction.BLOCK_MANDATE for code in ("AC01", "AC04", "AC06", "AG01", "MD01", "SL01")},
    **{code: ReturnAction.RETRY_ONCE for code in ("AM04", "MS02", "MS03")},
}


def _creditor_id(value: Any) -> Any:
    """The SEPA creditor identifier (Gläubiger-ID, EPC AT-02: country, ISO 7064 mod 97-10 check digits
    over the id without its business code, business code, national id) checked by python-stdnum, compact."""
    if value is None or not isinstance(value, str):
        return value
    from stdnum.eu import at_02
    from stdnum.exceptions import ValidationError as StdnumError

    try:
        compact = at_02.validate(value)
    except StdnumError as exc:
        raise ValueError(f"not a valid SEPA creditor identifier (Gläubiger-ID): {value!r} ({exc})") from None
    if compact.startswith("DE") and len(compact) != 18:
        raise ValueError(f"a German Gläubiger-ID has 18 characters (DE, 2 check digits, 3 business code, "
                         f"11 digits), got {value!r}")
    return compact


def _iban(value: Any) -> Any:
    if value is None or not isinstance(value, str):
        return value
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return IBAN(value).compact
    except SchwiftyException as exc:
        raise ValueError(f"not a valid IBAN: {value!r} ({exc})") from None


class CollectionSection(Section):
    """``[collection]``: SEPA direct-debit collections (docs/SEPA_COLLECTION.md, DOMAIN.md §3.4).

    Without ``creditor_id`` the tenant does not collect (the collection run refuses to start)."""

    creditor_id: Annotated[str | None, BeforeValidator(_creditor_id)] = None
    account: Annotated[str | None, BeforeValidator(_iban)] = None     # default: the first [[accounts]]
    lead_days: Days = 1                  # SEPA Core: D-1 (TARGET2 days) since November 2016
    cutoff: time = time(12, 0)           # the bank's cut-off on the last day (local time) [practice value]
    timezone: Name = "Europe/Berlin"
    first_sequence: Literal["RCUR", "FRST"] = "RCUR"
    convert_names: Bool = True           # a debtor name outside the SEPA set is converted (reported), not refused
    pain008_version: Literal["001.001.08", "001.001.02"] = "001.001.08"
    mandate_expiry_months: Count = 36
    due_window_days: Days = 7            # a claim due this many days before the collection date is still collected
    prenotice_days: Days = 14            # SEPA rulebook: pre-notification at least 14 calendar days before
    return_actions: dict[str, ReturnAction] = Field(default_factory=lambda: dict(RETURN_ACTIONS))
    return_fee_charge: Bool = False      # pass the bank's return fee on to the debtor (needs a legal basis)
    return_fee_fixed: Cents | None = None   # charge this amount instead of the bank's fee
    return_fee_claim_type: Name = "KOSTEN"
    outbox: Annotated[str, Field(min_length=1)] | None = None   # released pain.008 files (default: <tenant>/outbox)
    # MT940 ?34 return reason (9xx) -> ISO code, laid over collection/return_codes.csv (a tenant row wins)
    mt940_return_codes: dict[Annotated[str, Field(pattern=r"^[0-9]{3}$")],
                             Annotated[str, Field(pattern=r"^[A-Za-z0-9]{4}$")]] = Field(default_factory=dict)

    @field_validator("return_actions", mode="before")
    @classmethod
    def _merge_actions(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {**RETURN_ACTIONS, **{str(k).upper(): v for k, v in value.items()}}


class DocumentsSection(Section):
    """``[documents]``: how long the case files' documents are kept (``ledger.documents``, KomHVO § 59)."""

    retention_years: Count = 6           # Belege: 6 years (KomHVO § 59 Abs. 1); books would be 10
    approval_lag_years: Days = 2         # years from the document's year to the council's approval of its accounts


#: Claim types a payout sets off against by default: the tenant's own claims and their ancillary charges.
#: Left out: claims collected for others (``RUNDFUNK_AMTSHILFE``: no mutuality of the claims, § 387 BGB) and
#: fines (``BUSSGELD``: the OWiG's own enforcement) — a tenant may name them, knowing its law.
SETOFF_CLAIM_TYPES: tuple[str, ...] = tuple(
    str(t) for t in ClaimType if t not in (ClaimType.MAIN, ClaimType.RUNDFUNK_AMTSHILFE, ClaimType.BUSSGELD))
#: Block reasons that leave a claim open to set-off (every other block, and an unknown one, prevents it):
#: a Niederschlagung only stops enforcement for now (§ 261 AO), an unknown address only the letters.
SETOFF_DESPITE_BLOCKS: tuple[str, ...] = (BlockReason.NIEDERSCHLAGUNG, BlockReason.ADRESSE_UNBEKANNT)


class PayoutSection(Section):
    """``[payout]``: set-off and SEPA credit transfers of refunds (docs/SEPA_PAYOUT.md)."""

    account: Annotated[str | None, BeforeValidator(_iban)] = None     # default: the collection account
    setoff: Bool = True                  # set off against the debtor's due claims before paying out
    setoff_claim_types: Annotated[Words, BeforeValidator(_upper)] = SETOFF_CLAIM_TYPES
    setoff_despite_blocks: Annotated[Words, BeforeValidator(_upper)] = SETOFF_DESPITE_BLOCKS
    pain001_version: Literal["001.001.09", "001.001.03"] = "001.001.09"
    lead_days: Days = 1                  # TARGET2 days between sending the file and the execution date
    cutoff: time = time(12, 0)           # the bank's cut-off on the sending day (local time)
    timezone: Name = "Europe/Berlin"
    outbox: Annotated[str, Field(min_length=1)] | None = None   # released pain.001 files (default: the collection outbox)


#: Lower bounds (days since the due date) of the age classes of the valuation of receivables and their flat
#: allowance rates (Pauschalwertberichtigung) — practice values [UNCONFIRMED]: the tenant's accounting
#: guideline (Bilanzierungsrichtlinie) sets its own.
ALLOWANCE_AGE_DAYS: tuple[int, ...] = (0, 365, 730, 1095, 1825)
ALLOWANCE_RATES_PERCENT: tuple[float, ...] = (0.0, 10.0, 25.0, 50.0, 100.0)

Percent = Annotated[float, Field(ge=0, le=100)]


#: The enforcement office's fee kinds we know (the ``Kind`` of a ``Fee`` in its outcomes file) and their legal
#: basis in words: § 8 VO VwVG NRW lists the kinds of fee exhaustively, the amounts are in §§ 10 ff. VO VwVG NRW
#: (DOMAIN.md §1.5). The amounts are UNCONFIRMED (DOMAIN.md did not retrieve them), so none is preset: the
#: import books what the office wrote and flags a kind not listed here, or an amount other than a configured
#: ``fee_amounts`` entry (docs/ENFORCEMENT.md, "Importing outcomes").
OUTCOME_FEE_KINDS: dict[str, str] = {
    "pfaendung": "Pfändungsgebühr, §§ 10 ff. VO VwVG NRW",
    "wegnahme": "Wegnahmegebühr, §§ 10 ff. VO VwVG NRW",
    "verwertung": "Verwertungsgebühr, §§ 10 ff. VO VwVG NRW",
    "vermoegensauskunft": "Gebühr für die Vermögensauskunft, §§ 10 ff. VO VwVG NRW",
    "auslagen": "Auslagen (Zustellung, Post, Wegegeld u. a.), §§ 10 ff. VO VwVG NRW",
}


class EnforcementSection(Section):
    """``[enforcement]``: the hand-off to the enforcement office, limitation, valuation and key figures
    (docs/ENFORCEMENT.md, DOMAIN.md §1.2, §1.10, §6, §9.2 ``enforcement:``)."""

    handoff_threshold: Cents = 1000      # a main claim with its Nebenforderungen under this stays with the treasury
    postal_buffer_days: Days = 3         # calendar days after the Mahnung's deadline: the debtor's letter back
    bank_lag_days: Days = 2              # business days after those: a transfer made on the deadline is credited
    case_tag: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,8}$")] | None = None   # case numbers; None: from the tenant id
    office_id: Annotated[str, Field(pattern=r"^[^\s|]{1,64}$")] = "VS"   # the enforcement office's id (its files' OfficeId)
    office_name: Text = "Vollstreckungsstelle"   # the receiver of the hand-off and updates files
    office_street: Text | None = None
    office_postcode: Text | None = None
    office_city: Text | None = None
    office_tenant: Name | None = None    # the office is another Stadtkasse tenant's (issue 17 §4); None: our own
    # the tenants whose hand-offs this tenant's office takes (issue 17 §4: it enforces for them); the exchange
    # routes a client's files here only when the client is listed, and the nightly books only theirs
    clients: tuple[Name, ...] = ()
    outbox: Annotated[str, Field(min_length=1)] | None = None   # released hand-off batches (default: <tenant>/outbox/enforcement)
    limitation_years: Count = 5          # §§ 228 ff. AO (KAG claims via § 12 KAG NRW)
    limitation_years_private: Count = 3  # §§ 195, 199 BGB
    limitation_warning_days: Days = 180
    staff_fte: Annotated[float, Field(gt=0)] | None = None   # full-time posts of the enforcement unit
    annual_costs: Cents | None = None    # the enforcement unit's expenses per year (budget); None: cost_per_case
    cost_per_case: Cents | None = None   # expenses per enforcement claim worked, when annual_costs is not set
    backlog_days: Count = 180            # an open enforcement claim without any outcome this long is a backlog
    allowance_age_days: tuple[Days, ...] = ALLOWANCE_AGE_DAYS
    allowance_rates_percent: tuple[Percent, ...] = ALLOWANCE_RATES_PERCENT
    allowance_uncollectible_percent: Percent = 100.0   # individual allowance of a claim found uncollectible
    #: the office's fee kinds (outcomes import): kind -> legal basis in words, laid over OUTCOME_FEE_KINDS
    fee_kinds: dict[str, str] = Field(default_factory=lambda: dict(OUTCOME_FEE_KINDS))
    #: the amount a fee kind must have (cents); a kind not listed is not checked (UNCONFIRMED amounts)
    fee_amounts: dict[str, Cents] = Field(default_factory=dict)

    @field_validator("allowance_rates_percent")
    @classmethod
    def _one_rate_per_class(cls, value: tuple[float, ...], info: Any) -> tuple[float, ...]:
        days = info.data.get("allowance_age_days", ALLOWANCE_AGE_DAYS)
        if len(value) != len(days):
            raise ValueError(f"expected one rate per age class ({len(days)}), got {len(value)}")
        return value

    @field_validator("fee_kinds", mode="before")
    @classmethod
    def _merge_fee_kinds(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {**OUTCOME_FEE_KINDS, **{str(k).lower(): v for k, v in value.items()}}

    @field_validator("allowance_age_days")
    @classmethod
    def _classes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or value[0] != 0 or list(value) != sorted(set(value)):
            raise ValueError(f"expected rising day bounds starting at 0, got {list(value)}")
        return value


#: A German postcode (the district's list): five digits.
Postcode = Annotated[str, Strict(), Field(pattern=r"^[0-9]{5}$")]


class AmtshilfeSection(Section):
    """``[amtshilfe]``: the checks every enforcement request of another creditor goes through, and what the
    requesting creditors are invoiced (docs/AMTSHILFE.md "Checks", "Feedback"; DOMAIN.md §4, §9.1 r. 19–21).

    The district decides competence: a debtor whose postcode is in ``district_postcodes`` — or whose
    municipality (key or name, as the request gives it) is in ``district_municipalities`` — is ours. A
    Beitragsservice/WDR request (creditor id in ``rundfunk_creditor_ids`` or name matching
    ``rundfunk_name_pattern``) is refused in NRW when it is dated after ``rundfunk_cutoff``: since 1 Jan 2024
    the WDR enforces itself (DOMAIN.md §0.1); a request dated on or before the cut-off is run-off and kept,
    and a change to a case still open is always applied."""

    district_postcodes: tuple[Postcode, ...] = ()
    district_municipalities: Annotated[Words, BeforeValidator(_upper)] = ()   # AGS keys or names
    authorities_file: Annotated[str, Field(min_length=1)] | None = None   # CSV: the competent authority per postcode
    in_nrw: Bool = True                  # the tenant is in NRW (the WDR rule applies)
    rundfunk_creditor_ids: Annotated[Words, BeforeValidator(_upper)] = ("BEITRAGSSERVICE", "WDR")
    rundfunk_name_pattern: Text = r"(?i)beitragsservice|rundfunk|\bWDR\b"
    rundfunk_cutoff: date = date(2023, 12, 31)
    cost_contribution: Cents = 3700      # per accepted request of a third party (§ 5 Abs. 1 VO VwVG NRW)
    cost_free_creditor_ids: Annotated[Words, BeforeValidator(_upper)] = ()   # creditors not invoiced [UNCONFIRMED]
    surcharge_rate_percent: Annotated[float, Field(ge=0, le=100)] = 1.0   # Rundfunkbeitragssatzung § 11
    surcharge_min: Cents = 800


class Account(Section):
    """``[[accounts]]``: one bank account of the treasury (the day close expects a statement for each)."""

    iban: Name
    bank: Text | None = None
    name: Text | None = None
    bic: Text | None = None
    format: Text | None = None
    encoding: Text | None = None


class Creditor(Section):
    """``[[creditors]]``: a foreign creditor the enforcement office collects for (Amtshilfe): where the money
    collected for its claims (``claims.creditor`` = ``id``) is forwarded (docs/SEPA_PAYOUT.md)."""

    id: Name                             # as in the claims' ``creditor`` column
    name: Text                           # the account holder, as the transfer names it
    iban: Name
    bic: Text | None = None
    reference: Text | None = None        # the creditor's reference for our forwards (their file or account sign)
    remittance: Text | None = None       # template: {reference} {kassenzeichen} {count} {date}; default below


class TenantFile(Section):
    """The whole document (after ``extends``): one field per table."""

    tenant: TenantSection = TenantSection()
    paths: PathsSection = PathsSection()
    ingest: IngestSection = IngestSection()
    schedule: ScheduleSection = ScheduleSection()
    reference: ReferenceSection = ReferenceSection()
    matching: MatchingSection = MatchingSection()
    allocation: AllocationSection = AllocationSection()
    review: ReviewSection = ReviewSection()
    dunning: DunningSection = DunningSection()
    letters: LettersSection = LettersSection()
    collection: CollectionSection = CollectionSection()
    documents: DocumentsSection = DocumentsSection()
    payout: PayoutSection = PayoutSection()
    enforcement: EnforcementSection = EnforcementSection()
    amtshilfe: AmtshilfeSection = AmtshilfeSection()
    accounts: tuple[Account, ...] = ()
    creditors: tuple[Creditor, ...] = ()


#: The tables that are arrays of tables (``[[name]]``; replaced as a whole by a file that ``extends``).
ARRAYS = ("accounts", "creditors")
#: The tables of the file and their models (``accounts`` is an array of tables).
SECTIONS: dict[str, type[Section]] = {
    "tenant": TenantSection, "paths": PathsSection, "ingest": IngestSection, "schedule": ScheduleSection, "reference": ReferenceSection,
    "matching": MatchingSection, "allocation": AllocationSection, "review": ReviewSection, "dunning": DunningSection,
    "letters": LettersSection, "collection": CollectionSection, "payout": PayoutSection, "accounts": Account,
    "documents": DocumentsSection,
    "enforcement": EnforcementSection,
    "amtshilfe": AmtshilfeSection,
    "creditors": Creditor,
}


@dataclass(frozen=True, slots=True)
class TenantConfig:
    """One tenant's config, typed: resolved paths first, then every table as its model."""

    tenant: str
    ledger: Path
    tenant_dir: Path
    state_dir: Path
    reports: Path
    settings: TenantFile = field(default_factory=TenantFile)
    source: Path | None = None            # the TOML file (None for defaults)
    raw: dict[str, Any] = field(default_factory=dict)   # the merged document, paths made absolute

    @property
    def cron(self) -> str:
        return self.settings.schedule.nightly

    def schedules(self) -> dict[str, str]:
        """Job name -> cron for every job of ``[schedule]`` (``kasse serve`` registers each)."""
        jobs = self.settings.schedule.model_dump(exclude={"timezone"})
        return {job: cron for job, cron in jobs.items() if isinstance(cron, str)}

    @property
    def timezone(self) -> str:
        return self.settings.schedule.timezone

    @property
    def reference(self) -> ReferenceSection:
        return self.settings.reference

    @property
    def matching(self) -> MatchingSection:
        return self.settings.matching

    @property
    def allocation(self) -> AllocationSection:
        return self.settings.allocation

    @property
    def review(self) -> ReviewSection:
        return self.settings.review

    @property
    def dunning(self) -> DunningSection:
        return self.settings.dunning

    @property
    def letters(self) -> LettersSection:
        return self.settings.letters

    @property
    def collection(self) -> CollectionSection:
        return self.settings.collection

    @property
    def documents(self) -> DocumentsSection:
        return self.settings.documents

    @property
    def enforcement(self) -> EnforcementSection:
        return self.settings.enforcement

    @property
    def amtshilfe(self) -> AmtshilfeSection:
        return self.settings.amtshilfe

    @property
    def collection_account(self) -> str | None:
        """The IBAN collections are credited to: ``[collection] account``, else the first ``[[accounts]]``."""
        if self.settings.collection.account:
            return self.settings.collection.account
        return self.accounts[0].iban.replace(" ", "").upper() if self.accounts else None

    @property
    def payout(self) -> PayoutSection:
        return self.settings.payout

    @property
    def payout_account(self) -> str | None:
        """The IBAN payouts are debited to: ``[payout] account``, else the collection account."""
        return self.settings.payout.account or self.collection_account

    @property
    def accounts(self) -> tuple[Account, ...]:
        return self.settings.accounts

    @property
    def creditors(self) -> tuple[Creditor, ...]:
        return self.settings.creditors

    @property
    def inbox(self) -> Path:
        return self.tenant_dir / "inbox"

    @property
    def archive(self) -> Path:
        return self.tenant_dir / "archive"

    @property
    def quarantine(self) -> Path:
        return self.tenant_dir / "quarantine"

    @property
    def published(self) -> Path:
        return self.state_dir / "published" / self.tenant

    @property
    def journal(self) -> Path:
        return self.state_dir / "journal" / self.tenant

    @property
    def runs_dir(self) -> Path:
        return self.state_dir / "runs" / self.tenant


# --- errors -------------------------------------------------------------------------------------------

_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "bool_type": "true or false", "bool_parsing": "true or false", "string_type": "a string",
    "float_type": "a number", "float_parsing": "a number", "tuple_type": "a list", "list_type": "a list",
    "model_type": "a table", "model_attributes_type": "a table", "dict_type": "a table",
}


def _where(loc: tuple[Any, ...], extra: bool) -> tuple[str, type[BaseModel]]:
    """``[section] key`` for an error location, and the model the last key belongs to (steps that name
    no field, such as the branches of a union, are left out)."""
    model: type[BaseModel] = TenantFile
    parts: list[str] = []
    for i, step in enumerate(loc):
        if isinstance(step, int):
            if parts:
                parts[-1] = f"{parts[-1]} #{step + 1}"
        elif model is TenantFile and step in SECTIONS:
            parts.append(f"[[{step}]]" if step in ARRAYS else f"[{step}]")
            model = SECTIONS[step]
        elif step in model.model_fields or (extra and i == len(loc) - 1):
            parts.append(str(step))
    if model is not TenantFile and len(parts) == 1 and not (extra and len(loc) == 1):
        return parts[0], model
    return " ".join(parts) or "(top)", model


def _message(err: Any) -> str:
    loc, kind, got = tuple(err["loc"]), err["type"], err.get("input")
    where, model = _where(loc, kind == "extra_forbidden")
    if kind == "extra_forbidden":
        retired = RETIRED.get(tuple(str(s) for s in loc))
        if retired:
            return f"{where}: {retired}"
        if len(loc) == 1:
            what = f"[{where}]: unknown table" if isinstance(got, dict) else f"{where}: unknown key"
            return f"{what} (known tables: {', '.join(TenantFile.model_fields)})"
        return f"{where}: unknown key (known: {', '.join(model.model_fields)})"
    if kind == "missing":
        return f"{where}: missing (required)"
    if kind in _EXPECTED:
        return f"{where}: expected {_EXPECTED[kind]}, got {got!r}"
    bound = {"greater_than": "more than", "greater_than_equal": "at least", "less_than_equal": "at most",
             "less_than": "less than"}.get(kind)
    if bound:
        limit = next(iter((err.get("ctx") or {}).values()), "?")
        return f"{where}: expected {bound} {limit}, got {got!r}"
    if kind == "string_too_short":
        return f"{where}: expected a non-empty string, got {got!r}"
    text = str(err["msg"]).removeprefix("Value error, ")
    text = f"expected {text.removeprefix('Input should be ')}" if text.startswith("Input should be") else text
    return f"{where}: {text}" + ("" if "got" in text else f", got {got!r}")


def _validate(data: dict[str, Any], where: str) -> TenantFile:
    try:
        return TenantFile.model_validate(data)
    except ValidationError as exc:
        seen: list[str] = []
        for err in exc.errors():
            msg = _message(err)
            if msg not in seen:
                seen.append(msg)
        raise ConfigError("\n".join(f"{where}: {m}" for m in seen)) from None


# --- reading ------------------------------------------------------------------------------------------

def _absolute(value: str, folder: Path) -> str:
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else folder / p)


def _anchor(data: dict[str, Any], folder: Path) -> dict[str, Any]:
    """``data`` with its relative paths made absolute against ``folder`` (the file that sets them)."""
    out = dict(data)
    for section, keys in (("paths", ("ledger", "tenant_dir", "state_dir", "reports")), ("review", ("secret_file",)),
                          ("amtshilfe", ("authorities_file",))):
        if isinstance(out.get(section), dict):
            out[section] = {k: _absolute(v, folder) if k in keys and isinstance(v, str) and v else v
                            for k, v in out[section].items()}
    return out


def _read_one(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc


def _chain(path: Path, seen: tuple[Path, ...] = ()) -> list[dict[str, Any]]:
    """The documents of ``path``'s extends chain, the farthest first, each checked and anchored."""
    data = _read_one(path)
    parent = data.pop("extends", None)
    _validate(data, str(path))
    here = [_anchor(data, path.resolve().parent)]
    if parent is None:
        return here
    if not isinstance(parent, str) or not parent:
        raise ConfigError(f"{path}: extends: expected the name of one TOML file, got {parent!r}")
    target = (path.resolve().parent / parent).resolve()
    chain = (*seen, path.resolve())
    if target in chain:
        raise ConfigError(f"{path}: extends: {parent} is already in the chain ({' -> '.join(map(str, chain))}): "
                          "a cycle")
    if len(chain) >= MAX_EXTENDS:
        raise ConfigError(f"{path}: extends: more than {MAX_EXTENDS} files in the chain")
    return [*_chain(target, chain), *here]


def _merge(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """Lay each document over the ones before it, table by table."""
    out: dict[str, Any] = {}
    for doc in docs:
        for key, value in doc.items():
            base = out.get(key)
            out[key] = {**base, **value} if isinstance(value, dict) and isinstance(base, dict) else value
    return out


def default_ledger_name(tenant: str) -> str:
    """The ledger file of a tenant whose ``[paths] ledger`` is not set: its own, ``<tenant id>.duckdb``."""
    return f"{tenant}.duckdb"


def tenant_config(data: dict[str, Any], *, base: Path, tenant: str | None = None,
                  source: Path | None = None) -> TenantConfig:
    """The typed config of a parsed document; relative paths against ``base``; ``tenant`` overrides
    ``[tenant] id``. A :class:`ConfigError` names ``source`` (or "config") and the key."""
    data = _anchor(data, base)
    settings = _validate(data, str(source) if source else "config")
    name = tenant or settings.tenant.id
    paths = settings.paths
    ledger = Path(_absolute(paths.ledger or default_ledger_name(name), base))
    return TenantConfig(
        tenant=name,
        ledger=ledger,
        tenant_dir=Path(_absolute(paths.tenant_dir or name, base)),
        state_dir=Path(paths.state_dir) if paths.state_dir else ledger.parent / "state",
        reports=Path(_absolute(paths.reports, base)),
        settings=settings,
        source=source,
        raw=data,
    )


def load_tenant_config(path: Path | str | None, *, tenant: str | None = None) -> TenantConfig:
    """Read a tenant TOML with its ``extends`` chain (``None``: the defaults, paths in the current folder)."""
    if path is None:
        return tenant_config({}, base=Path.cwd(), tenant=tenant)
    path = Path(path)
    return tenant_config(_merge(_chain(path)), base=path.resolve().parent, tenant=tenant, source=path)
