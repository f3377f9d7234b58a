"""Region names are looked up for codes that requests carry (a quota's kabupaten, the
region of an on-time-share report: any well-formed code, official or not). Their cache
must stay bounded, or every distinct code asked for stays in the process for good."""
from shared import regions


def test_the_region_name_cache_stays_bounded_however_many_codes_are_asked():
    for n in range(30_000):   # well-formed codes no official list holds
        code = f"99.{n // 10_000:02d}.{n // 100 % 100:02d}.{n % 100:04d}"
        assert regions.region_name(code) is None
    assert regions._name.cache_info().currsize < 30_000
    assert regions._name.cache_info().currsize <= regions.NAME_CACHE_SIZE


def test_every_official_region_name_fits_in_the_cache():
    codes = regions.all_village_codes()
    prefixes = {code[:length] for code in codes for length in (2, 5, 8)}
    assert len(prefixes) < regions.NAME_CACHE_SIZE
    assert regions.region_name("52.01") == "Kabupaten Lombok Barat"
