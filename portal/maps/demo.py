"""Demo street list of Musterstadt for offline geocoding: 38 streets in six districts around the Rathaus.

Invented, but shaped like a real list: two streets called Hauptstraße (Altstadt and Neustadt) and two called
Bahnhofstraße, so "which one did you mean?" can be tried; the Großenhainer Straße in two segments (house
numbers 1–60 and 61–124, two postcodes); the addresses of both Bürgerbüros (Rathausplatz 1, Großenhainer Straße
92). Loaded by `flask demo load` through the normal import; streets already present are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from portal.actors import SYSTEM
from portal.extensions import db
from portal.maps.models import Street
from portal.maps.streets import import_streets, read_street_file

Line = list[tuple[float, float]]  # (lat, lon) points from the lowest to the highest house number

# name, postcode, district, (first, last house number), line
STREETS: list[tuple[str, str, str, tuple[int, int], Line]] = [
    ("Rathausplatz", "01067", "Altstadt", (1, 10), [(51.0504, 13.7373), (51.0499, 13.7388)]),
    ("Hauptstraße", "01067", "Altstadt", (1, 80), [(51.0520, 13.7330), (51.0512, 13.7400), (51.0508, 13.7460)]),
    ("Schloßstraße", "01067", "Altstadt", (1, 30), [(51.0527, 13.7365), (51.0495, 13.7370)]),
    ("Am Markt", "01067", "Altstadt", (1, 20), [(51.0510, 13.7395), (51.0503, 13.7410)]),
    ("Kirchgasse", "01067", "Altstadt", (1, 14), [(51.0515, 13.7415), (51.0525, 13.7425)]),
    ("Wilsdruffer Straße", "01067", "Altstadt", (1, 50), [(51.0500, 13.7300), (51.0496, 13.7390)]),
    ("Dr.-Külz-Ring", "01067", "Altstadt", (1, 40), [(51.0475, 13.7330), (51.0470, 13.7400), (51.0480, 13.7450)]),
    ("Straße des 17. Juni", "01067", "Altstadt", (1, 24), [(51.0460, 13.7280), (51.0455, 13.7340)]),
    ("Weiße Gasse", "01067", "Altstadt", (1, 12), [(51.0490, 13.7405), (51.0480, 13.7410)]),
    ("Hauptstraße", "01097", "Neustadt", (1, 48), [(51.0580, 13.7430), (51.0630, 13.7470)]),
    (
        "Königsbrücker Straße",
        "01097",
        "Neustadt",
        (1, 120),
        [(51.0640, 13.7480), (51.0720, 13.7530), (51.0800, 13.7580)],
    ),
    ("Bautzner Straße", "01097", "Neustadt", (1, 90), [(51.0630, 13.7520), (51.0640, 13.7650)]),
    ("Alaunstraße", "01097", "Neustadt", (1, 100), [(51.0620, 13.7500), (51.0680, 13.7530)]),
    ("Louisenstraße", "01097", "Neustadt", (1, 80), [(51.0660, 13.7460), (51.0665, 13.7560)]),
    ("Großenhainer Straße", "01097", "Neustadt", (1, 60), [(51.0660, 13.7410), (51.0740, 13.7350)]),
    ("Albertplatz", "01097", "Neustadt", (1, 12), [(51.0632, 13.7462), (51.0628, 13.7478)]),
    ("Görlitzer Straße", "01097", "Neustadt", (1, 40), [(51.0650, 13.7530), (51.0690, 13.7545)]),
    (
        "Großenhainer Straße",
        "01127",
        "Nordvorstadt",
        (61, 124),
        [(51.0740, 13.7350), (51.0798, 13.7296), (51.0860, 13.7240)],
    ),
    ("Leipziger Straße", "01127", "Nordvorstadt", (1, 150), [(51.0700, 13.7300), (51.0800, 13.7150)]),
    ("Hansastraße", "01127", "Nordvorstadt", (1, 60), [(51.0720, 13.7380), (51.0820, 13.7400)]),
    ("Bahnhofstraße", "01127", "Nordvorstadt", (1, 30), [(51.0770, 13.7320), (51.0775, 13.7260)]),
    ("Fichtestraße", "01127", "Nordvorstadt", (1, 20), [(51.0810, 13.7310), (51.0820, 13.7280)]),
    ("Bahnhofstraße", "01069", "Südvorstadt", (1, 40), [(51.0410, 13.7320), (51.0440, 13.7330)]),
    ("Prager Straße", "01069", "Südvorstadt", (1, 50), [(51.0450, 13.7360), (51.0410, 13.7330)]),
    ("Bergstraße", "01069", "Südvorstadt", (1, 120), [(51.0400, 13.7280), (51.0300, 13.7260)]),
    ("Schnorrstraße", "01069", "Südvorstadt", (1, 80), [(51.0420, 13.7400), (51.0390, 13.7480)]),
    ("Lindenallee", "01069", "Südvorstadt", (1, 30), [(51.0380, 13.7350), (51.0370, 13.7420)]),
    ("Goethestraße", "01069", "Südvorstadt", (1, 40), [(51.0350, 13.7300), (51.0345, 13.7380)]),
    ("Schillerstraße", "01069", "Südvorstadt", (1, 40), [(51.0330, 13.7300), (51.0325, 13.7380)]),
    ("Löbtauer Straße", "01159", "Weststadt", (1, 90), [(51.0480, 13.7150), (51.0450, 13.7000)]),
    ("Kesselsdorfer Straße", "01159", "Weststadt", (1, 200), [(51.0440, 13.7000), (51.0400, 13.6800)]),
    ("Mühlenweg", "01159", "Weststadt", (1, 25), [(51.0420, 13.7060), (51.0410, 13.7100)]),
    ("Wiesenweg", "01159", "Weststadt", (1, 18), [(51.0470, 13.6950), (51.0460, 13.6990)]),
    ("Pfotenhauerstraße", "01307", "Ostviertel", (1, 90), [(51.0530, 13.7600), (51.0540, 13.7800)]),
    ("Fetscherstraße", "01307", "Ostviertel", (1, 110), [(51.0600, 13.7750), (51.0450, 13.7720)]),
    ("Gartenstraße", "01307", "Ostviertel", (1, 30), [(51.0500, 13.7650), (51.0490, 13.7700)]),
    ("Parkstraße", "01307", "Ostviertel", (1, 24), [(51.0470, 13.7680), (51.0465, 13.7730)]),
    ("Ölmühlenweg", "01307", "Ostviertel", (1, 10), [(51.0520, 13.7750), (51.0525, 13.7780)]),
]


def demo_geojson() -> dict[str, Any]:
    """The demo streets as the GeoJSON FeatureCollection a city would import."""
    features = []
    for index, (name, postcode, district, (first, last), line) in enumerate(STREETS, start=1):
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in line]},
                "properties": {
                    "key": f"DEMO-{index:03d}",
                    "name": name,
                    "postcode": postcode,
                    "district": district,
                    "number_from": first,
                    "number_to": last,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def load(echo: Callable[[str], None] = print) -> int:
    """Add the demo streets that are not there yet; returns how many were created."""
    from portal.demo_data import _require_demo

    _require_demo()
    echo("Streets (maps) …")
    rows = read_street_file("demo-streets.geojson", json.dumps(demo_geojson()).encode())
    present = set(db.session.scalars(sa.select(Street.code).where(Street.code.in_([row.code for row in rows]))))
    missing = [row for row in rows if row.code not in present]
    created = import_streets(SYSTEM, missing, source="demo").created if missing else 0
    echo(f"  streets: {created} created, {len(present)} already present")
    return created
