"""Valid content of each planning document, as the API takes it; unit and integration
tests both build on these (attachment hashes are parameters)."""
import copy

BAJUR = "52.01.08.2006"


def rplp(map_sha256):
    return {
        "vision": "Permukiman Bajur yang sehat, tertib dan produktif pada 2029",
        "horizon": {"start_year": 2025, "end_year": 2029},
        "critical_issues": [
            {"issue": "Genangan di RW 02 setiap musim hujan", "sector": "drainase",
             "rpk_reference": "RPK sesi 3, 2024-05-12"},
            {"issue": "Sampah dibuang ke saluran", "sector": "persampahan",
             "rpk_reference": "RPK sesi 4, 2024-05-19", "location": "RT 03/RW 02"}],
        "sector_plans": [
            {"sector": "drainase", "objective": "Tidak ada genangan di RW 02",
             "programmes": ["Saluran tersier 1,2 km"], "indicative_budget": 900_000_000},
            {"sector": "persampahan", "objective": "Sampah terangkut tiap hari",
             "programmes": ["TPS 3R", "Gerobak sampah"]}],
        "maps": [{"sha256": map_sha256, "title": "Peta kondisi eksisting",
                  "theme": "kondisi eksisting"}],
    }


def rtplp(ded_sha256=None):
    items = [
        {"sector": "drainase", "description": "Saluran tersier RW 02", "quantity": "1200.5",
         "unit": "m", "unit_cost": 750_000, "year": 2025, "funding_source": "apbn"},
        {"sector": "jalan_lingkungan", "description": "Paving jalan lingkungan",
         "quantity": "850", "unit": "m2", "unit_cost": 210_000, "year": 2026,
         "funding_source": "apbd_kabupaten_kota"},
        {"sector": "persampahan", "description": "Gerobak sampah", "quantity": "6",
         "unit": "unit", "unit_cost": 4_500_000, "year": 2025, "funding_source": "swadaya"},
    ]
    if ded_sha256:
        items[0]["ded"] = [{"sha256": ded_sha256, "title": "DED saluran tersier"}]
    return {
        "priority_area": {"name": "Kawasan RW 02 Bajur", "hectares": "12.4",
                          "rt_rw": [{"rt": 3, "rw": 2}, {"rt": 4, "rw": 2}]},
        "investment_items": items,
        "phasing": [{"year": 2025, "description": "Drainase dan persampahan"},
                    {"year": 2026, "description": "Jalan lingkungan"}],
    }


def aturan_bersama():
    return {"rules": [{
        "topic": "Persampahan", "current_condition": "Sampah dibuang ke saluran",
        "ideal_condition": "Saluran bersih, sampah terpilah",
        "agreed_rule": "Warga dilarang membuang sampah ke saluran",
        "enforced_by": "UPL BKM dan Ketua RT", "sanction": "Teguran, lalu kerja bakti"}]}


def marketing_strategy():
    return {
        "strategy": "Menawarkan paket investasi per sektor kepada Pemda dan CSR",
        "work_plan": [{"activity": "Menyusun proposal", "starts_on": "2025-01-06",
                       "ends_on": "2025-02-28", "responsible": "Tim pemasaran BKM"}],
        "potential_partners": [{"name": "Dinas PUPR Lombok Barat", "category": "pemerintah"},
                               {"name": "PT Air Bersih", "category": "swasta_csr",
                                "interest": "air_minum"}],
        "marketing_events": [{"name": "Temu mitra", "planned_on": "2025-03-15",
                              "place": "Kantor Desa Bajur", "audience": "Pemda, CSR"}],
    }


def content(kind, sha256):
    return {"rplp": lambda: rplp(sha256), "rtplp": lambda: rtplp(sha256),
            "aturan_bersama": aturan_bersama,
            "marketing_strategy": marketing_strategy}[kind]()


def meeting(attendance_sha256, approves=(), men=20, women=12, poor=9, held_on="2024-08-10",
            minutes_sha256=None):
    """A meeting deciding to approve each (kind, version) in approves. A meeting that
    approves has its minutes (berita acara): by default the uploaded attendance file
    stands in for them (minutes_sha256 names another upload)."""
    minutes = minutes_sha256 or (attendance_sha256 if approves else None)
    return {
        "meeting_type": "musyawarah", "held_on": held_on, "place": "Balai Desa Bajur",
        "agenda": ["Pembahasan rencana"],
        "chair": {"name": "H. Lalu Ahmad", "position": "Koordinator BKM"},
        "minute_taker": {"name": "Baiq Siti", "position": "Sekretaris BKM"},
        "attendance": {"men": men, "women": women, "poor": poor},
        "attendance_list": {"sha256": attendance_sha256, "title": "Daftar hadir"},
        **({"minutes": {"sha256": minutes, "title": "Berita acara"}} if minutes else {}),
        "decisions": [{"text": f"Menyetujui {kind} versi {version}",
                       "approves": {"kind": kind, "version": version}}
                      for kind, version in approves] or [{"text": "Sosialisasi saja"}],
    }


def changed(data, **changes):
    copied = copy.deepcopy(data)
    copied.update(changes)
    return copied
