"""The programme template: stages, activities, required outputs and planned durations.

Data with an id and a version; the version a cycle follows is recorded when it opens.
Durations follow the field guides (Persiapan about 5 weeks); an official changes them by
publishing a new template version, never by editing this one.

An output is done when an activity that produces it is recorded, when an event of
another service satisfies it (`satisfied_by`: ledger, event type, payload conditions),
or when a ministry official waives it. A later service only has to emit its event.
"""

TEMPLATE = {
    "id": "plpbk-cycle",
    "version": 1,
    "stages": [
        {"stage": 1, "key": "persiapan", "name": "Persiapan", "planned_days": 35,
         "activities": [
             {"key": "lokakarya_kota", "name": "Lokakarya kabupaten/kota",
              "produces": ["lokakarya_kota"]},
             {"key": "lokakarya_kelurahan", "name": "Lokakarya kelurahan/desa",
              "produces": ["lokakarya_kelurahan"]},
             {"key": "sosialisasi_massal", "name": "Sosialisasi massal",
              "produces": ["sosialisasi_massal"]},
             {"key": "pengukuhan_tipp", "name": "Pengukuhan TPP menjadi TIPP",
              "produces": ["tipp_dikukuhkan"], "needs_members": True}],
         "outputs": [
             {"key": "lokakarya_kota", "name": "Lokakarya kabupaten/kota terlaksana"},
             {"key": "lokakarya_kelurahan", "name": "Lokakarya kelurahan terlaksana"},
             {"key": "sosialisasi_massal", "name": "Sosialisasi massal terlaksana"},
             {"key": "tipp_dikukuhkan", "name": "TPP dikukuhkan menjadi TIPP (dengan anggota)"}]},
        {"stage": 2, "key": "rpk", "name": "Refleksi Perkara Kritis", "planned_days": 28,
         "activities": [
             {"key": "refleksi_perkara_kritis", "name": "Refleksi perkara kritis",
              "produces": ["laporan_rpk"]}],
         "outputs": [{"key": "laporan_rpk", "name": "Laporan refleksi perkara kritis"}]},
        {"stage": 3, "key": "ps", "name": "Pemetaan Swadaya", "planned_days": 42,
         "activities": [
             {"key": "pemetaan_swadaya", "name": "Pemetaan swadaya",
              "produces": ["peta_tematik"]}],
         "outputs": [{"key": "peta_tematik", "name": "Hasil pemetaan swadaya dan peta tematik"}]},
        {"stage": 4, "key": "perencanaan", "name": "Perencanaan partisipatif dan Pemasaran",
         "planned_days": 112,
         "activities": [
             {"key": "rembug_warga", "name": "Rembug warga perencanaan", "produces": []}],
         "outputs": [
             {"key": "rplp_disetujui", "name": "RPLP disetujui", "satisfied_by": [
                 {"ledger": "planning", "type": "DocumentApproved",
                  "where": {"kind": "rplp"}}]},
             {"key": "aturan_bersama_disetujui", "name": "Aturan Bersama disepakati",
              "satisfied_by": [{"ledger": "planning", "type": "DocumentApproved",
                                "where": {"kind": "aturan_bersama"}}]},
             {"key": "rtplp_disetujui", "name": "RTPLP disetujui", "satisfied_by": [
                 {"ledger": "planning", "type": "DocumentApproved",
                  "where": {"kind": "rtplp"}}]},
             {"key": "strategi_pemasaran_disetujui", "name": "Strategi pemasaran disetujui",
              "satisfied_by": [{"ledger": "planning", "type": "DocumentApproved",
                                "where": {"kind": "marketing_strategy"}}]}]},
        {"stage": 5, "key": "pelaksanaan", "name": "Pelaksanaan dan Pengelolaan Pembangunan",
         "planned_days": 182,
         "activities": [
             {"key": "pembangunan", "name": "Pelaksanaan pembangunan", "produces": []}],
         "outputs": [
             {"key": "pekerjaan_diserahterimakan", "name": "Pekerjaan dibangun dan diserahterimakan",
              "satisfied_by": [{"ledger": "construction", "type": "WorksHandedOver",
                                "where": {}}]}]},
        {"stage": 6, "key": "evaluasi", "name": "Evaluasi dan Keberlanjutan", "planned_days": 28,
         "activities": [
             {"key": "evaluasi_partisipatif", "name": "Evaluasi partisipatif",
              "produces": ["laporan_evaluasi"]}],
         "outputs": [{"key": "laporan_evaluasi", "name": "Laporan evaluasi dan keberlanjutan"}]},
    ],
}

ON_TIME_TARGET = 90  # % of villages completing on time (PNPM target)


def stage(template, number):
    return template["stages"][number - 1]


def activity(template, number, key):
    return next((a for a in stage(template, number)["activities"] if a["key"] == key), None)


def satisfactions(template):
    """(ledger, event type) -> [(stage, output key, payload conditions)]."""
    found = {}
    for spec in template["stages"]:
        for output in spec["outputs"]:
            for rule in output.get("satisfied_by", []):
                found.setdefault((rule["ledger"], rule["type"]), []).append(
                    (spec["stage"], output["key"], rule["where"]))
    return found


def total_planned_days(template):
    return sum(spec["planned_days"] for spec in template["stages"])
