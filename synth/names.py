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

#: First names read as women's, for "für Frau …" in a neighbour's payment (the rest are addressed as Herrn).
WOMEN = frozenset((
    "Anna", "Sabine", "Monika", "Ursula", "Brigitte", "Renate", "Petra", "Gabriele", "Karin", "Birgit",
    "Heike", "Lea", "Zoë", "Käthe", "Marie-Luise", "Ayse", "Fatma", "Elif", "Katarzyna", "Erika", "Dörte",
    "Bärbel", "Greta", "Ute",
))

#: Names in European alphabets (round two of issue 14), by country: (men's first names, women's first
#: names, men's surnames, women's surnames). Polish and Czech surnames have a women's form; these are
#: NOT Latin-1 (ł, ś, ř, ı, İ, ğ, ş, đ, œ …): a Sparkasse MT940 file carries them as its bank spells
#: them (synth/spelling.py), camt.053 and the open-items export in UTF-8 as they are.
EUROPEAN_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "PL": (("Michał", "Łukasz", "Paweł", "Grzegorz", "Wojciech", "Jarosław"),
           ("Małgorzata", "Agnieszka", "Katarzyna", "Jadwiga", "Bożena", "Żaneta"),
           ("Wójcik", "Zieliński", "Wiśniewski", "Dąbrowski", "Kołodziej", "Szczęsny", "Łuczak"),
           ("Wójcik", "Zielińska", "Wiśniewska", "Dąbrowska", "Kołodziej", "Szczęsna", "Łuczak")),
    "CZ": (("Jiří", "Tomáš", "Luboš", "Přemysl", "Radek"),
           ("Kateřina", "Zuzana", "Jiřina", "Markéta", "Dagmar"),
           ("Dvořák", "Novotný", "Černý", "Procházka", "Kříž", "Růžička"),
           ("Dvořáková", "Novotná", "Černá", "Procházková", "Křížová", "Růžičková")),
    "TR": (("İbrahim", "Çağrı", "Oğuz", "Işık", "Barış", "İsmail"),
           ("Gülşen", "Ayşe", "Işıl", "Şükran", "Özge", "İpek"),
           ("Yıldız", "Aydın", "Doğan", "Şahin", "Kılıç", "Çelik", "Öztürk", "Işıklar"),
           ("Yıldız", "Aydın", "Doğan", "Şahin", "Kılıç", "Çelik", "Öztürk", "Işıklar")),
    "DK": (("Bjørn", "Søren", "Jørgen", "Mads", "Æsgar"),
           ("Astrid", "Lærke", "Sørine", "Åse", "Bodil"),
           ("Østergaard", "Sørensen", "Kjær", "Bødker", "Hæstrup", "Lindqvist"),
           ("Østergaard", "Sørensen", "Kjær", "Bødker", "Hæstrup", "Lindqvist")),
    "FR": (("Benoît", "François", "Noël", "Jérôme", "Loïc"),
           ("Françoise", "Hélène", "Zoé", "Maëlle", "Cécile"),
           ("Cœurderoy", "Lefèvre", "Bœuf", "Mégret", "Garçon", "Sœurette"),
           ("Cœurderoy", "Lefèvre", "Bœuf", "Mégret", "Garçon", "Sœurette")),
    "HR": (("Đorđe", "Željko", "Dražen", "Tomislav", "Ivica"),
           ("Ivana", "Mateja", "Slavica", "Đurđica", "Snježana"),
           ("Đurić", "Kovačević", "Šarić", "Babić", "Marković", "Đukić"),
           ("Đurić", "Kovačević", "Šarić", "Babić", "Marković", "Đukić")),
    "DE": (("Jürgen", "Björn", "Sören", "Günther"),
           ("Käthe", "Dörte", "Bärbel", "Jördis"),
           ("Weiß", "Großmann", "Strauß", "Süßmuth", "Meißner", "Fußbroich"),
           ("Weiß", "Großmann", "Strauß", "Süßmuth", "Meißner", "Fußbroich")),
    "HU": (("Ödön", "Győző", "Zoltán", "Lőrinc"),
           ("Erzsébet", "Tünde", "Ildikó", "Enikő"),
           ("Győri", "Szőke", "Fülöp", "Kovács", "Bűdi"),
           ("Győri", "Szőke", "Fülöp", "Kovács", "Bűdi")),
    "RO": (("Ștefan", "Mircea", "Tudor", "Răzvan"),
           ("Ioana", "Mădălina", "Ștefania", "Bianca"),
           ("Ionescu", "Țurcanu", "Mureșan", "Năstase", "Bălan"),
           ("Ionescu", "Țurcanu", "Mureșan", "Năstase", "Bălan")),
    "ES": (("José", "Íñigo", "Andrés", "Joaquín"),
           ("Begoña", "María José", "Inés", "Nuria"),
           ("Muñoz", "Ibáñez", "Peña", "García Núñez", "Álvarez"),
           ("Muñoz", "Ibáñez", "Peña", "García Núñez", "Álvarez")),
    "NL": (("Jan", "Sjoerd", "Maarten", "Pieter"),
           ("Sanne", "Ilse", "Marieke", "Femke"),
           ("de Vries", "van Dijk", "Bakker", "Smit", "van den Berg"),
           ("de Vries", "van Dijk", "Bakker", "Smit", "van den Berg")),
}
