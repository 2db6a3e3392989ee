"""The place gazetteer: every region and district of Stats NZ's list, sourced points, and
the nearest place to coordinates."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
import yaml

from bot.config import DATA_DIR
from bot.directory.places import (
    NZ_LATITUDES,
    NZ_LONGITUDES,
    PLACES_FILE,
    distance_km,
    gazetteer,
    parse_point,
)

SOURCES = DATA_DIR / "directory" / "sources"
# Stats NZ's code for "Area Outside Region", where it puts the Chatham Islands Territory.
OUTSIDE_REGION = "99"


def _rows(name: str) -> list[dict[str, str]]:
    with (SOURCES / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def raw() -> list[dict]:
    return yaml.safe_load(PLACES_FILE.read_text(encoding="utf-8"))["places"]


@pytest.fixture(scope="module")
def source_districts() -> dict[str, dict[str, str]]:
    """Stats NZ's districts by code: name and the region holding most of its SA1s."""
    rows = _rows("statsnz-2018-ta-regc.csv")
    out: dict[str, dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: -int(r["sa1_count"])):
        out.setdefault(row["ta_code"], row)
    return out


def _stats(raw: list[dict], kind: str) -> dict[str, dict]:
    return {p["stats"]["code"]: p for p in raw if p["kind"] == kind and "stats" in p}


def test_every_district_of_the_source_is_in_the_gazetteer_once(raw, source_districts):
    districts = _stats(raw, "district")
    codes = Counter(p["stats"]["code"] for p in raw if p["kind"] == "district" and "stats" in p)
    assert max(codes.values()) == 1
    assert len(source_districts) == len(districts) == 67
    assert {c: p["stats"]["name"] for c, p in districts.items()} == {
        c: row["ta_name"] for c, row in source_districts.items()
    }


def test_every_region_of_the_source_is_in_the_gazetteer(raw):
    source = {
        r["regc_code"]: r["regc_name"]
        for r in _rows("statsnz-2018-ta-regc.csv")
        if r["regc_code"] != OUTSIDE_REGION
    }
    regions = _stats(raw, "region")
    assert len(source) == len(regions) == 16
    assert {c: p["stats"]["name"] for c, p in regions.items()} == source
    assert len([p for p in raw if p["kind"] == "region"]) == 16


def test_each_district_is_in_the_region_holding_most_of_it(raw, source_districts):
    regions = {p["stats"]["code"]: p["key"] for p in _stats(raw, "region").values()}
    for code, place in _stats(raw, "district").items():
        region = source_districts[code]["regc_code"]
        expected = "nz" if region == OUTSIDE_REGION else regions[region]
        assert place["parent"] == expected, place["key"]
    for place in gazetteer().places.values():
        if place.kind in ("district", "town") and place.key != "chatham-islands-territory":
            assert gazetteer().region_of(place.key), place.key


def test_points_are_the_named_sa2_centroids_in_the_place_and_in_new_zealand(raw):
    centroids = {r["sa2_code"]: r for r in _rows("statsnz-2018-sa2-centroids.csv")}
    places = gazetteer()
    with_points = [p for p in raw if "at" in p]
    assert len(with_points) > 67
    for place in with_points:
        at = place["at"]
        code, _, name = at["sa2"].partition(" ")
        row = centroids[code]
        assert (row["sa2_name"], float(row["latitude"]), float(row["longitude"])) == (
            name,
            at["lat"],
            at["lon"],
        ), place["key"]
        district = places.get(places.district_of(place["key"]))
        assert row["ta_code"] == district.stats_code, place["key"]
        assert NZ_LATITUDES[0] <= at["lat"] <= NZ_LATITUDES[1]
        assert any(w <= at["lon"] <= e for w, e in NZ_LONGITUDES)


def test_every_alias_belongs_to_its_place():
    places = gazetteer()
    for place in places.places.values():
        for alias in (place.reo_name, *place.aliases, *place.exact_case):
            if alias:
                assert places.resolve(alias) is place, (place.key, alias)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Dunedin", "dunedin-city"),
        ("Whangārei", "whangarei-district"),
        ("whangarei", "whangarei-district"),
        ("Greymouth", "greymouth"),
        ("Gore", "gore"),
        ("Auckland", "auckland"),
    ],
)
def test_names_resolve_to_places_whatever_their_macrons(text, key):
    assert gazetteer().resolve(text).key == key


def test_towns_sit_in_their_districts():
    lineage = gazetteer().lineage("whakatane")
    assert lineage == ["whakatane", "whakatane-district", "bay-of-plenty", "nz"]


WESTPORT_AREA = (-41.754, 171.603)  # central Westport
DUNEDIN = (-45.874, 170.504)  # central Dunedin, which has no town in the gazetteer


def test_a_westport_area_point_resolves_to_westport():
    assert gazetteer().nearest(WESTPORT_AREA).key == "westport"
    assert gazetteer().nearest(WESTPORT_AREA, "buller").key == "westport"


def test_a_point_in_another_district_resolves_to_that_district():
    assert gazetteer().nearest(DUNEDIN).key == "dunedin-city"


def test_in_a_district_the_nearest_town_with_a_point_is_chosen():
    # Inland of Runanga: Blackball has no point and is skipped; Runanga is nearer than
    # Greymouth or Cobden.
    assert gazetteer().nearest((-42.36, 171.41), "grey").key == "runanga"


def test_a_point_far_from_every_place_is_not_located():
    # Haast: the West Coast's far south, over 100 km from any place with a point.
    assert gazetteer().nearest((-43.88, 169.04)) is None


def test_a_district_must_be_a_district():
    with pytest.raises(ValueError, match="not a district"):
        gazetteer().nearest(DUNEDIN, "otago")


def test_locate_keeps_a_known_town_and_narrows_the_rest():
    places = gazetteer()
    assert places.locate("reefton", WESTPORT_AREA) == "reefton"
    assert places.locate("buller", WESTPORT_AREA) == "westport"
    assert places.locate("west-coast", WESTPORT_AREA) == "westport"
    assert places.locate(None, DUNEDIN) == "dunedin-city"
    assert places.locate("buller", None) == "buller"


def test_great_circle_distance():
    # Westport to Greymouth centroids: about 85 km as the crow flies.
    westport, greymouth = gazetteer().get("westport"), gazetteer().get("greymouth")
    assert distance_km(westport.point, greymouth.point) == pytest.approx(84.6, abs=1)
    assert distance_km(DUNEDIN, DUNEDIN) == 0


@pytest.mark.parametrize(
    ("lat", "lon", "message"),
    [
        ("north", 171.6, "latitude 'north' is not a number"),
        (-41.7, None, "longitude None is not a number"),
        (-41.7, 71.6, "not in New Zealand"),
        (41.7, 171.6, "not in New Zealand"),
    ],
)
def test_bad_coordinates_are_refused_clearly(lat, lon, message):
    with pytest.raises(ValueError, match=message):
        parse_point(lat, lon)


def test_the_chatham_islands_are_in_new_zealand():
    assert parse_point(-43.95, -176.56) == (-43.95, -176.56)
