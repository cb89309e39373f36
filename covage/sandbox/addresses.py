"""A small copy of the BAN's address search (api-adresse `/search/?q=…&limit=…`), so that
the portal's address search works offline, in the demo and the tests.

It answers as the BAN does: a GeoJSON FeatureCollection whose features carry `label`,
`housenumber`, `street`, `postcode`, `city`, `citycode` (the INSEE code), `score` and `type`
in their properties, and `[longitude, latitude]` as coordinates. A handful of addresses with
accents; the knob ADDRESS_DELAY (seconds) makes it slow, for the timeout tests.
"""

from __future__ import annotations

import time
import unicodedata

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from covage.sandbox.http import json_response
from covage.sandbox.knobs import knob_float

# (housenumber, street, postcode, city, citycode, longitude, latitude)
ADDRESSES = (
    ("4", "Rue Andreï Sakharov", "76130", "Mont-Saint-Aignan", "76451", 1.091455, 49.4744077),
    ("4bis", "Rue Andreï Sakharov", "76130", "Mont-Saint-Aignan", "76451", 1.091502, 49.474431),
    ("12", "Rue de l'Église", "69003", "Lyon", "69383", 4.850843, 45.760113),
    ("8ter", "Place du Marché", "35000", "Rennes", "35238", -1.679792, 48.111339),
    ("27", "Avenue Jean Jaurès", "13004", "Marseille", "13204", 5.398791, 43.306573),
    ("3", "Chemin des Écoliers", "20000", "Ajaccio", "2A004", 8.736953, 41.919229),
    ("15", "Rue Émile Zola", "97400", "Saint-Denis", "97411", 55.451008, -20.882057),
    ("1", "Quai de la Fosse", "44000", "Nantes", "44109", -1.565347, 47.211025),
)


def _key(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c if c.isalnum() else " " for c in decomposed if not unicodedata.combining(c))


def _feature(entry: tuple[str, str, str, str, str, float, float], score: float) -> dict:
    number, street, postcode, city, citycode, longitude, latitude = entry
    label = f"{number} {street} {postcode} {city}"
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [longitude, latitude]},
        "properties": {
            "label": label,
            "score": round(score, 4),
            "housenumber": number,
            "id": f"{citycode}_{_key(street).replace(' ', '')}_{number}",
            "name": f"{number} {street}",
            "postcode": postcode,
            "citycode": citycode,
            "x": 0,
            "y": 0,
            "city": city,
            "context": postcode[:2],
            "type": "housenumber",
            "importance": 0.5,
            "street": street,
        },
    }


def matches(query: str, limit: int) -> list[dict]:
    words = _key(query).split()
    if not words:
        return []
    scored = []
    for entry in ADDRESSES:
        haystack = _key(" ".join(entry[:4])).split()
        found = sum(1 for word in words if any(part.startswith(word) for part in haystack))
        if found == len(words):
            scored.append((found / len(haystack), entry))
    scored.sort(key=lambda item: -item[0])
    return [_feature(entry, score) for score, entry in scored[:limit]]


@login_not_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    delay = knob_float("ADDRESS_DELAY")
    if delay:
        time.sleep(delay)
    query = request.GET.get("q", "")
    if len(query.strip()) < 3:
        return json_response(
            {
                "code": 400,
                "message": "q must contain between 3 and 200 chars and start with a number "
                "or a letter",
            },
            status=400,
        )
    try:
        limit = max(1, min(int(request.GET.get("limit", "5")), 20))
    except ValueError:
        limit = 5
    return json_response(
        {
            "type": "FeatureCollection",
            "version": "draft",
            "features": matches(query, limit),
            "attribution": "BAN (sandbox copy)",
            "licence": "ETALAB-2.0",
            "query": query,
            "limit": limit,
        }
    )
