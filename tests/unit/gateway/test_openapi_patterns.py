"""Fields that check their text in code (not with a Regexp) are documented with the
pattern they enforce: the document said only 'string' for a village code, a region
prefix or a decimal quantity, so a client could not know what would be refused."""
import re

import pytest

from services.gateway import openapi
from services.gateway.routes import ROUTES
from services.planning.content import ExactDecimal
from shared.schemas import RegionPrefix, VillageCode

from ..field_support import field_takes


@pytest.fixture(scope="module")
def document():
    return openapi.document(ROUTES)


def parameter(document, path, name):
    found = [p for p in document["paths"][path]["get"]["parameters"] if p["name"] == name]
    return found[0]["schema"]


def agrees(field, pattern, values):
    """The documented pattern takes exactly what the field takes, for these values."""
    for value in values:
        assert bool(re.fullmatch(pattern.removeprefix("^").removesuffix("$"), value)) == \
            field_takes(field, value), (value, pattern)


def test_a_village_code_is_documented_with_its_pattern(document):
    pattern = parameter(document, "/api/v1/villages/{code}", "code")["pattern"]
    body = document["components"]["schemas"]["RegistrationRegisterVillage"]
    assert body["properties"]["code"]["pattern"] == pattern
    agrees(VillageCode(), pattern, ["52.01.08.2006", "52.01.08.200", "52.01.08.2006\n",
                                    "٥٢.٠١.٠٨.٢٠٠٦", " 52.01.08.2006", "52010820061"])


@pytest.mark.parametrize("path", ["/api/v1/villages", "/api/v1/cycles",
                                  "/api/v1/planning/pending", "/api/v1/cycles/on-time-share"])
def test_a_region_filter_is_documented_with_its_pattern(document, path):
    pattern = parameter(document, path, "region")["pattern"]
    agrees(RegionPrefix(), pattern, ["", "52", "52.01", "52.01.08", "52.01.08.2006",
                                     "52.010", "52.1", "5", "52.", "５２", "52\n"])


def test_a_decimal_quantity_is_documented_with_its_pattern(document):
    hectares = document["components"]["schemas"]["PlanningPriorityArea"]["properties"][
        "hectares"]
    field = ExactDecimal(places=2, maximum=100000)
    agrees(field, hectares["pattern"], ["12.5", "12", "12.55", "12.555", "-1", "1e3",
                                        " 12", "١٢"])
    assert "100000" in hectares["description"]
