"""Remittance texts as citizens type them: Kassenzeichen formats, prefixes, typos, vague purposes."""

from __future__ import annotations

import random

from claims.kassenzeichen import is_valid

PREFIXES = ("Kassenzeichen ", "Kassenzeichen: ", "KZ ", "KZ.", "kz ", "Kassenz. ", "Az. ", "", "",
            "Kassenzeichen-Nr. ", "Kassenzeichen ", "Kz: ")

PURPOSE = {
    "GRUNDSTEUER": ("Grundsteuer 4/2026", "Grundbesitzabgaben IV/26", "Grundsteuer B", "Grundst. Nov."),
    "GEWERBESTEUER": ("Gewerbesteuer-Vorauszahlung IV/2026", "GewSt VZ 4.Quartal", "Gewerbesteuer"),
    "ABFALL": ("Abfallgebühren 4. Quartal", "Muellgebuehren", "Abfall IV/2026"),
    "HUNDESTEUER": ("Hundesteuer 2026", "Hundesteuer Bello", "Hundest. 4/26"),
    "KITA": ("Kita-Beitrag November", "Elternbeitrag Kita Sonnenschein", "OGS/Kita Beitrag 11/2026"),
    "BUSSGELD": ("Verwarnungsgeld", "Bußgeldbescheid", "Ordnungswidrigkeit Parkverstoß"),
    "MAHNGEBUEHR": ("Mahnung", "Mahngebühr"),
    "SAEUMNISZUSCHLAG": ("Säumniszuschlag",),
    "KOSTEN": ("Kosten",),
    "ZINSEN": ("Zinsen",),
}


def styled(kz: str, rng: random.Random) -> str:
    """The Kassenzeichen in one of the ways people write it: dotted, plain, spaced, dashed, grouped."""
    r = rng.random()
    if r < 0.40:
        return f"{kz[0]}.{kz[1:5]}.{kz[5:9]}.{kz[9:]}"
    if r < 0.70:
        return kz
    if r < 0.82:
        return f"{kz[0]} {kz[1:5]} {kz[5:9]} {kz[9:]}"
    if r < 0.92:
        return f"{kz[0]}-{kz[1:5]}-{kz[5:9]}-{kz[9:]}"
    return f"{kz[:4]} {kz[4:8]} {kz[8:]}"


def typo_digit(kz: str, rng: random.Random) -> str:
    """``kz`` with one digit replaced by another (mod-11 makes the result invalid)."""
    pos = rng.randrange(len(kz))
    new = rng.choice([d for d in "0123456789" if d != kz[pos]])
    out = kz[:pos] + new + kz[pos + 1:]
    assert not is_valid(out, "mod11"), "mod 11 detects every single wrong digit"
    return out


def typo_swap(kz: str, rng: random.Random) -> str:
    """``kz`` with two different neighbouring digits swapped (mod-11 makes the result invalid)."""
    positions = [i for i in range(len(kz) - 1) if kz[i] != kz[i + 1]]
    i = rng.choice(positions)
    out = kz[:i] + kz[i + 1] + kz[i] + kz[i + 2:]
    assert not is_valid(out, "mod11"), "mod 11 detects every swap of two different neighbouring digits"
    return out


def reference_text(kz_text: str, purpose: str, rng: random.Random, lead: str = "") -> str:
    """A remittance text quoting one Kassenzeichen; ``lead`` (e.g. a name) may push it across ``?2x`` lines."""
    prefix = rng.choice(PREFIXES)
    r = rng.random()
    if r < 0.6:
        text = f"{prefix}{kz_text} {purpose}"
    elif r < 0.85:
        text = f"{purpose} {prefix}{kz_text}"
    else:
        text = f"{lead or purpose} {prefix}{kz_text}"
    return text.strip()[:140]


# --- round two (issue 14): how people write amounts, RF references, letters for digits, years ---------

def rf_reference(kz: str) -> str:
    """ISO 11649 creditor reference of ``kz``: ``RF`` + two mod-97 check digits + the reference, compact.

    The check digits make ``reference + "RF" + check`` (letters as 10…35) leave 1 modulo 97.
    """
    number = int("".join(str(int(ch, 36)) for ch in f"{kz}RF00"))
    return f"RF{98 - number % 97:02d}{kz}"


def rf_printed(rf: str) -> str:
    """An RF reference as printed on paper: groups of four (``RF18 5123 4567 8901``)."""
    return " ".join(rf[i:i + 4] for i in range(0, len(rf), 4))


#: letters typed for digits: 0 → O/o, 1 → l/I
LOOKALIKES = {"0": ("O", "o"), "1": ("l", "I")}


def letters_for_digits(text: str, rng: random.Random) -> str:
    """``text`` (a written Kassenzeichen) with one or two of its 0s and 1s typed as O, o, l or I."""
    spots = [i for i, ch in enumerate(text) if ch in LOOKALIKES]
    if not spots:
        raise ValueError(f"no 0 or 1 in {text!r}")
    chosen = rng.sample(spots, k=min(len(spots), rng.choice((1, 1, 2))))
    out = list(text)
    for i in chosen:
        out[i] = rng.choice(LOOKALIKES[out[i]])
    return "".join(out)


def with_year(kz: str, rng: random.Random, year: int = 2026) -> str:
    """The Kassenzeichen with the year attached: ``…/2026``, ``…-2026``, ``… 2026`` or glued ``…2026``."""
    r = rng.random()
    if r < 0.3:
        return f"{styled(kz, rng)}/{year}"
    if r < 0.55:
        return f"{styled(kz, rng)}-{year}"
    if r < 0.75:
        return f"{styled(kz, rng)} {year}"
    return f"{kz}{year}"  # glued: only the plain form, a dotted one would end in a group of seven


def amount_text(cents: int, rng: random.Random) -> str:
    """An amount as people write it after a Kassenzeichen: ``55,00 Euro``, ``55,- €``, ``EUR 55``, ``55.00`` …"""
    euros, rest = divmod(cents, 100)
    comma, point = f"{euros},{rest:02d}", f"{euros}.{rest:02d}"
    styles = [f"{comma} Euro", f"{comma} EUR", f"{comma}€", f"{comma} €", point, f"EUR {comma}", f"€ {comma}"]
    if rest == 0:
        styles += [f"{euros},- €", f"{euros},- Euro", f"EUR {euros}", f"{euros} Euro", f"{euros},-"]
    return rng.choice(styles)


def designation_text(parts: list[tuple[str, str]], rng: random.Random, *, rest_follows: bool) -> str:
    """One remittance naming several Kassenzeichen, each with its own amount: ``KZ … 55,00 Euro, KZ … 125,-``.

    ``parts`` are (Kassenzeichen as written, amount as written); ``rest_follows`` adds "Rest folgt".
    The text fits the 140 characters of a SEPA remittance whole: a longer prefix or the "Rest folgt"
    is dropped rather than cutting off an amount.
    """
    prefix = rng.choice(("KZ ", "Kassenzeichen ", "", "Kz. "))
    joiner = rng.choice((", ", "; ", " und ", " / ", " + "))
    rest = rng.choice((" Rest folgt", " Restbetrag folgt", ", Rest folgt", " - Rest folgt im Dez.")) if rest_follows else ""
    for pre, tail in ((prefix, rest), ("KZ ", rest), ("", rest), ("", "")):
        text = joiner.join(f"{pre}{kz} {amount}" for kz, amount in parts) + tail
        if len(text) <= 140:
            return text
    raise ValueError(f"designation does not fit 140 characters: {text!r}")
