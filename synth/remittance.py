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
