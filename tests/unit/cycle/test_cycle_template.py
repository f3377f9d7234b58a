"""The programme template is consistent data, and its gate mapping names what the issue
asks: planning's four approvals for stage 4, construction's handover for stage 5."""
import copy

import pytest

from services.cycle import template as templates


@pytest.mark.parametrize("key", sorted(templates.TEMPLATES))
def test_every_published_version_is_consistent(key):
    assert templates.problems(templates.TEMPLATES[key]) == []


def test_new_cycles_follow_the_latest_version():
    latest = max(version for (tid, version) in templates.TEMPLATES
                 if tid == templates.CURRENT["id"])
    assert templates.CURRENT["version"] == latest


def test_the_six_stages_and_their_planned_days():
    stages = templates.CURRENT["stages"]
    assert [s["name"] for s in stages] == [
        "Persiapan", "Refleksi Perkara Kritis", "Pemetaan Swadaya",
        "Perencanaan partisipatif dan Pemasaran", "Pelaksanaan dan Pengelolaan Pembangunan",
        "Evaluasi dan Keberlanjutan"]
    assert [s["planned_days"] for s in stages] == [35, 28, 42, 112, 182, 28]
    persiapan = [a["key"] for a in stages[0]["activities"]]
    assert persiapan == ["lokakarya_kota", "lokakarya_kelurahan", "sosialisasi_massal",
                         "pengukuhan_tipp"]


def test_the_gate_mapping():
    mapping = templates.satisfactions()
    approvals = {rule["where"]["kind"]: (rule["output"], rule["stage"], rule["on"])
                 for rule in mapping[("planning", "DocumentApproved")]}
    assert approvals == {
        "rplp": ("rplp_disetujui", 4, "approved_on"),
        "rtplp": ("rtplp_disetujui", 4, "approved_on"),
        "aturan_bersama": ("aturan_bersama_disetujui", 4, "approved_on"),
        "marketing_strategy": ("strategi_pemasaran_disetujui", 4, "approved_on")}
    (handover,) = mapping[("construction", "WorksHandedOver")]
    assert (handover["output"], handover["stage"]) == ("pekerjaan_diserahterimakan", 5)


def test_problems_are_named():
    broken = copy.deepcopy(templates.CURRENT)
    broken["stages"][1]["planned_days"] = 0
    broken["stages"][2]["activities"][0]["produces"] = ["laporan_rpk"]
    broken["stages"][5]["outputs"].append({"key": "peta_tematik", "name": "again"})
    found = templates.problems(broken)
    assert "stage 2: planned_days must be a whole number >= 1" in found
    assert any("pemetaan_swadaya produces laporan_rpk" in p for p in found)
    assert "output peta_tematik is required by more than one stage" in found
    assert "stage 3: nothing but a waiver can produce peta_tematik" in found
