"""Postal addresses and birth dates of the synthetic debtors (optional columns of the open-items export).

Each debtor's address comes from a random generator of its own, seeded by the set's seed and the
debtor id, never from the generator that makes the claims and payments: adding the address changed no
other value of a generated set. Streets and towns are plausible for a municipality in NRW; about one
debtor in forty lives abroad (Netherlands, Belgium, Austria) and a person's birth date lies 18 to 90
years back; companies and WEGs have none.
"""

from __future__ import annotations

import datetime as dt
import random

from synth.debtors import Debtor

STREETS = ("Hauptstraße", "Bahnhofstraße", "Kirchstraße", "Schulstraße", "Gartenstraße", "Lindenstraße",
           "Am Markt", "Ringstraße", "Mühlenweg", "Birkenweg", "Eichendorffstraße", "Goethestraße",
           "Schillerstraße", "Rathausplatz", "Feldstraße", "Am Sportplatz", "Wiesenweg", "Kastanienallee",
           "Friedrich-Ebert-Straße", "Konrad-Adenauer-Ring")
#: (postcode, town) pairs of the region
TOWNS = (("59555", "Lippstadt"), ("59557", "Lippstadt"), ("59494", "Soest"), ("59581", "Warstein"),
         ("33602", "Bielefeld"), ("44135", "Dortmund"), ("48143", "Münster"), ("59065", "Hamm"),
         ("33098", "Paderborn"), ("59302", "Oelde"))
ABROAD = (("NL", "Kerkstraat", "7511 JH", "Enschede"), ("BE", "Rue de la Gare", "4700", "Eupen"),
          ("AT", "Hauptplatz", "8010", "Graz"))


def address(debtor: Debtor, seed: int, as_of: dt.date) -> dict[str, str]:
    """The export's address columns of ``debtor`` (text; empty = not known), deterministic from ``seed``."""
    rng = random.Random(f"address:{seed}:{debtor.debtor_id}")
    number = f"{rng.randint(1, 120)}{rng.choice(('', '', '', '', 'a', 'b'))}"
    if rng.random() < 0.025:
        country, street, postcode, city = rng.choice(ABROAD)
    else:
        (postcode, city), street, country = rng.choice(TOWNS), rng.choice(STREETS), "DE"
    birth = ""
    if debtor.kind == "person":
        birth = (as_of - dt.timedelta(days=rng.randint(18 * 365, 90 * 365))).isoformat()
    return {"debtor_street": f"{street} {number}", "debtor_postcode": postcode, "debtor_city": city,
            "debtor_country": country, "debtor_birth_date": birth}
