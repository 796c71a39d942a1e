"""Name pools for synthetic debtors: German people, double names, companies, Hausverwaltungen.

All strings are ISO-8859-1 encodable (the Sparkasse MT940 files are written in Latin-1).
"""

from __future__ import annotations

FIRST_NAMES = (
    "Anna", "Jürgen", "Sabine", "Klaus", "Monika", "Peter", "Ursula", "Hans-Peter", "Brigitte", "Thomas",
    "Renate", "Michael", "Petra", "Andreas", "Gabriele", "Stefan", "Karin", "Frank", "Birgit", "Uwe",
    "Jörg", "Heike", "Björn", "Sören", "Maximilian", "Lea", "Lukas", "Zoë", "Jens", "Günther", "Käthe",
    "Marie-Luise", "Ömer", "Ayse", "Fatma", "Mehmet", "Elif", "Dragan", "Katarzyna", "Hüseyin", "Erika",
    "Wolfgang", "Dörte", "Bärbel", "Till", "Malte", "Greta", "Ole", "Jannik", "Ute",
)

LAST_NAMES = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber",
    "Kaiser", "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert",
    "Vogel", "Friedrich", "Keller", "Günther", "Frank", "Berger", "Winkler", "Roth", "Beck", "Lorenz",
    "Baumann", "Franke", "Albrecht", "Schuster", "Simon", "Ludwig", "Böhm", "Winter", "Kraus", "Martin",
    "Schumacher", "Krämer", "Vogt", "Stein", "Jäger", "Otto", "Sommer", "Groß", "Seidel", "Heinrich",
    "Brandt", "Haas", "Schreiber", "Graf", "Schulte", "Dietrich", "Ziegler", "Kuhn", "Kühn", "Pohl",
    "Engel", "Horn", "Busch", "Bergmann", "Thomas", "Voigt", "Sauer", "Arnold", "Wolff", "Pfeiffer",
    "Yilmaz", "Kaya", "Demir", "Nowak", "Kowalski", "Öztürk", "Papadopoulos", "Rossi", "Ivanovic", "Çelik",
    "Müller-Lüdenscheidt", "Schulze-Boysen", "von der Heide", "Meyer-Hoffmann", "Ter Haar", "Große-Kleimann",
)

COMPANY_STEMS = (
    "Bäckerei Kühn", "Autohaus Rheinblick", "Müller & Söhne", "Elektro Schäfer", "Gaststätte Zum Löwen",
    "Metallbau Krämer", "Schreinerei Jäger", "Blumen Weiß", "Heizung Sanitär Groß", "Steuerbüro Dietrich",
    "Fahrschule Böhm", "Praxis Dr. Öztürk", "Rheinische Logistik", "Brauhaus Südstadt", "Café Süßes Eck",
    "Dachdeckerei Voigt", "Immobilien Hahn", "Friseursalon Schnittpunkt", "Optik Lorenz", "Kfz-Werkstatt Roth",
)

COMPANY_FORMS = ("GmbH", "GmbH & Co. KG", "KG", "e.K.", "OHG", "AG", "UG (haftungsbeschränkt)", "GbR")

HAUSVERWALTUNGEN = (
    "Hausverwaltung Schröder GmbH", "WEG-Verwaltung Rheinufer", "Immobilienverwaltung König & Partner",
    "Hausverwaltung Günther Meyer", "GWG Wohnungsgesellschaft mbH", "Verwaltungsgesellschaft Süd mbH",
    "Haus- und Grundbesitz Weiß KG", "WEG Am Stadtgarten 12",
)

#: (BLZ, BIC) of real German banks, used for debtor accounts (facts, no data copied).
DEBTOR_BANKS = (
    ("37050198", "COLSDE33XXX"), ("30050110", "DUSSDEDDXXX"), ("10050000", "BELADEBEXXX"),
    ("50010517", "INGDDEFFXXX"), ("20041111", "COBADEHDXXX"), ("43060967", "GENODEM1GLS"),
    ("37040044", "COBADEFFXXX"), ("36050105", "SPESDE3EXXX"), ("44050199", "DORTDE33XXX"),
    ("10010010", "PBNKDEFFXXX"), ("70020270", "HYVEDEMMXXX"), ("37060590", "GENODED1SPK"),
    ("30020900", "CMCIDEDDXXX"), ("12030000", "BYLADEM1001"), ("76026000", "NORSDE71XXX"),
    ("66090800", "GENODE61BBB"), ("38060186", "GENODED1BRS"),
)

#: Purpose words a citizen types when paying without a Kassenzeichen.
VAGUE_PURPOSES = (
    "Steuer", "Rechnung", "Gebühren", "Zahlung", "Abfall 2026", "Hundesteuer", "Kita Beitrag",
    "Bescheid vom 03.11.", "Grundbesitzabgaben", "Strafzettel", "siehe Bescheid", "",
)
