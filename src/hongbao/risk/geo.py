# ruff: noqa: RUF001 - Chinese sentences use Chinese (full-width) punctuation, on purpose
"""Where a request comes from: a place reported by the client (``Hongbao-Geo: lat,lon``) and
the great-circle distance between two places (R-K2's travel rule)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from hongbao.platform.errors import ErrorCode, HongbaoError, Outcome

MICRODEGREES: Final = 1_000_000
EARTH_RADIUS_KM: Final = 6_371.0088  # the mean radius (IUGG)
MAX_HEADER_LENGTH: Final = 64
# Decimal degrees only: "31.2304,121.4737"; at most 6 decimals (about 0.1 m), ASCII digits, the
# ranges in the pattern itself; empty means unknown. The OpenAPI document publishes the same
# pattern, so a client knows exactly which values are accepted. Blanks around the value are
# stripped first (HTTP takes them off a header value anyway).
_LATITUDE: Final = r"-?(?:90(?:\.0{1,6})?|[0-8]?[0-9](?:\.[0-9]{1,6})?)"
_LONGITUDE: Final = r"-?(?:180(?:\.0{1,6})?|(?:1[0-7][0-9]|0?[0-9]{1,2})(?:\.[0-9]{1,6})?)"
PLACE_PATTERN: Final = rf"^(?:({_LATITUDE})[ \t]*,[ \t]*({_LONGITUDE}))?$"
_PLACE: Final = re.compile(PLACE_PATTERN)


class GeoCode(ErrorCode):
    INVALID = (
        "risk.geo_invalid",
        Outcome.REFUSED,
        "位置格式有误，应为“纬度,经度”。",
        "The location must be 'latitude,longitude' in decimal degrees.",
    )


class GeoError(HongbaoError):
    code = GeoCode.INVALID


@dataclass(frozen=True, slots=True)
class Place:
    """A point on the earth in millionths of a degree: exact to store and compare."""

    latitude_e6: int
    longitude_e6: int


def parse_place(text: str | None) -> Place | None:
    """The place a client reported, or None when it reported none (an unknown place)."""
    if text is None:
        return None
    match = _PLACE.fullmatch(text.strip(" \t")) if len(text) <= MAX_HEADER_LENGTH else None
    if match is None:
        raise GeoError(f"not a location: {text[:MAX_HEADER_LENGTH]!r}")
    if match.group(1) is None:
        return None  # blank
    latitude, longitude = (_microdegrees(part) for part in match.groups())
    return Place(latitude, longitude)


def _microdegrees(text: str) -> int:
    negative = text.startswith("-")
    whole, _, fraction = text.lstrip("-").partition(".")
    value = int(whole) * MICRODEGREES + int((fraction + "000000")[:6])
    return -value if negative else value


def distance_km(first: Place, second: Place) -> float:
    """Great-circle distance (haversine) in kilometres."""
    lat1, lon1, lat2, lon2 = (
        math.radians(value / MICRODEGREES)
        for value in (
            first.latitude_e6,
            first.longitude_e6,
            second.latitude_e6,
            second.longitude_e6,
        )
    )
    half_chord = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, half_chord)))
