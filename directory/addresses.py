"""The address search: the one place that speaks to the BAN (France's national address
base, "api-adresse"), whose `/search/?q=…&limit=…` answers GeoJSON features.

One bounded attempt: the whole call (connection, answer and body) takes at most
ADDRESS_SEARCH_TIMEOUT seconds (1 s), and is never retried, since a person is waiting with
the form open. Any failure is `AddressSearchUnavailable`: the form says so and the address
is typed by hand.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

import requests
from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

MAX_RESULTS = 6
MAX_QUERY = 200
MAX_BODY = 512 * 1024
# The BAN refuses queries shorter than 3 characters.
MIN_QUERY = 3
# Answers are kept a while: typing back and forth asks the BAN once per query.
CACHE_SECONDS = 600
# "4bis", "4 bis", "12B", "7 ter": the number, then the extension.
_HOUSENUMBER = re.compile(r"^\s*(\d+)\s*([^\d\s].*)?$")


class AddressSearchUnavailable(Exception):
    """The service did not answer in time, or not with addresses."""


@dataclass(frozen=True)
class Address:
    label: str
    street_number: str
    street_number_extension: str
    street_name: str
    postcode: str
    city: str
    insee_code: str
    latitude: float | None
    longitude: float | None

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> Address | None:
        """An address a page sent back (a picked result); None when it is not one."""
        try:
            values = json.loads(raw)
            return cls(
                label=str(values["label"]),
                street_number=str(values["street_number"]),
                street_number_extension=str(values["street_number_extension"]),
                street_name=str(values["street_name"]),
                postcode=str(values["postcode"]),
                city=str(values["city"]),
                insee_code=str(values["insee_code"]),
                latitude=_float(values.get("latitude")),
                longitude=_float(values.get("longitude")),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def site_values(self) -> dict[str, Any]:
        """The line's site fields (LineContact's names) this address fills."""
        values = asdict(self)
        values.pop("label")
        return values


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def split_housenumber(housenumber: str) -> tuple[str, str]:
    """'4bis' -> ('4', 'bis'); '12 B' -> ('12', 'B'); '' -> ('', '')."""
    match = _HOUSENUMBER.match(housenumber or "")
    if not match:
        return (housenumber or "").strip(), ""
    return match.group(1), (match.group(2) or "").strip()


def _address(feature: dict[str, Any]) -> Address | None:
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict) or not properties.get("label"):
        return None
    coordinates = (feature.get("geometry") or {}).get("coordinates") or []
    # GeoJSON: [longitude, latitude], in that order.
    longitude = _float(coordinates[0]) if len(coordinates) >= 2 else None
    latitude = _float(coordinates[1]) if len(coordinates) >= 2 else None
    number, extension = split_housenumber(str(properties.get("housenumber") or ""))
    street = properties.get("street") or (properties.get("name") if not number else "")
    return Address(
        label=str(properties["label"]),
        street_number=number,
        street_number_extension=extension,
        street_name=str(street or ""),
        postcode=str(properties.get("postcode") or ""),
        city=str(properties.get("city") or ""),
        insee_code=str(properties.get("citycode") or ""),
        latitude=latitude,
        longitude=longitude,
    )


def search(query: str, *, limit: int = MAX_RESULTS) -> list[Address]:
    """Addresses matching `query`, best first. Raises AddressSearchUnavailable when the
    service is slow (past the deadline), down or answers something else than GeoJSON."""
    query = " ".join(query.split())[:MAX_QUERY]
    if len(query) < MIN_QUERY:
        return []
    key = (
        "address-search:"
        + hashlib.sha256(
            f"{settings.ADDRESS_SEARCH_URL}|{limit}|{query.casefold()}".encode()
        ).hexdigest()
    )
    cached = cache.get(key)
    if isinstance(cached, list):
        return [Address(**values) for values in cached]
    found = _ask(query, limit)
    cache.set(key, [asdict(address) for address in found], CACHE_SECONDS)
    return found


def _ask(query: str, limit: int) -> list[Address]:
    budget = float(settings.ADDRESS_SEARCH_TIMEOUT)
    deadline = time.monotonic() + budget
    url = settings.ADDRESS_SEARCH_URL.rstrip("/") + "/search/"
    try:
        # The read timeout bounds each wait for bytes; the deadline bounds them all.
        with requests.get(
            url,
            params={"q": query, "limit": str(limit)},
            timeout=(budget / 2, budget / 2),
            stream=True,
            headers={"Accept": "application/json"},
        ) as response:
            response.raise_for_status()
            body = bytearray()
            for chunk in response.iter_content(chunk_size=16384):
                body.extend(chunk)
                if time.monotonic() > deadline:
                    raise AddressSearchUnavailable("too slow")
                if len(body) > MAX_BODY:
                    raise AddressSearchUnavailable("answer too large")
        if time.monotonic() > deadline:
            raise AddressSearchUnavailable("too slow")
        data = json.loads(bytes(body))
        features = data.get("features") if isinstance(data, dict) else None
        if not isinstance(features, list):
            raise AddressSearchUnavailable("not GeoJSON")
    except (requests.RequestException, ValueError) as exc:
        logger.info("Address search unavailable: %s", type(exc).__name__)
        raise AddressSearchUnavailable(str(exc)) from exc
    found = [_address(feature) for feature in features if isinstance(feature, dict)]
    return [address for address in found if address is not None][:limit]
