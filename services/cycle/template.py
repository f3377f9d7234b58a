"""The programme template: stages, activities, required outputs and planned durations.

Data with an id and a version; the version a cycle follows is recorded in CycleOpened and
the cycle keeps it to the end. An official changes the programme by publishing a new
version (a new entry in TEMPLATES, reviewed like any rule change), never by editing a
published one: cycles already open must keep meaning what they meant. New cycles open
with CURRENT. An output key means the same thing in every version.

An output is done when an activity that produces it is recorded, when an event of another
service satisfies it (`satisfied_by`: ledger, event type, payload conditions `where`, and
the payload field holding the date it happened `on`), or when a ministry official waives
it. A later service only has to emit its event.

Planned days: Persiapan's 5 weeks are from the field guides; the others are this
version's planning assumptions (RPK 4 weeks, PS 6, planning and marketing 16, works 26,
evaluation 4), changed by publishing a new version.
"""

PLPBK_CYCLE_V1 = {
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
             {"key": "rembug_warga", "name": "Rembug warga perencanaan", "produces": []},
             {"key": "lokakarya_pemasaran", "name": "Lokakarya pemasaran", "produces": []}],
         "outputs": [
             {"key": "rplp_disetujui", "name": "RPLP disetujui", "satisfied_by": [
                 {"ledger": "planning", "type": "DocumentApproved",
                  "where": {"kind": "rplp"}, "on": "approved_on"}]},
             {"key": "aturan_bersama_disetujui", "name": "Aturan Bersama disepakati",
              "satisfied_by": [{"ledger": "planning", "type": "DocumentApproved",
                                "where": {"kind": "aturan_bersama"}, "on": "approved_on"}]},
             {"key": "rtplp_disetujui", "name": "RTPLP disetujui", "satisfied_by": [
                 {"ledger": "planning", "type": "DocumentApproved",
                  "where": {"kind": "rtplp"}, "on": "approved_on"}]},
             {"key": "strategi_pemasaran_disetujui", "name": "Strategi pemasaran disetujui",
              "satisfied_by": [{"ledger": "planning", "type": "DocumentApproved",
                                "where": {"kind": "marketing_strategy"},
                                "on": "approved_on"}]}]},
        {"stage": 5, "key": "pelaksanaan", "name": "Pelaksanaan dan Pengelolaan Pembangunan",
         "planned_days": 182,
         "activities": [
             {"key": "pembangunan", "name": "Pelaksanaan pembangunan", "produces": []}],
         "outputs": [
             {"key": "pekerjaan_diserahterimakan",
              "name": "Pekerjaan dibangun dan diserahterimakan",
              "satisfied_by": [{"ledger": "construction", "type": "WorksHandedOver",
                                "where": {}, "on": "handed_over_on"}]}]},
        {"stage": 6, "key": "evaluasi", "name": "Evaluasi dan Keberlanjutan", "planned_days": 28,
         "activities": [
             {"key": "evaluasi_partisipatif", "name": "Evaluasi partisipatif",
              "produces": ["laporan_evaluasi"]}],
         "outputs": [{"key": "laporan_evaluasi", "name": "Laporan evaluasi dan keberlanjutan"}]},
    ],
}

# Every version ever published, by (id, version). Append; never edit or remove one.
TEMPLATES = {(PLPBK_CYCLE_V1["id"], PLPBK_CYCLE_V1["version"]): PLPBK_CYCLE_V1}
CURRENT = PLPBK_CYCLE_V1          # new cycles open with this version

ON_TIME_TARGET = 90  # % of villages finishing on time (the PNPM national target)


def get(template_id, version):
    """A published template version, or None."""
    return TEMPLATES.get((template_id, version))


def stage(template, number):
    return template["stages"][number - 1]


def activity(template, number, key):
    return next((a for a in stage(template, number)["activities"] if a["key"] == key), None)


def stage_of_output(template, output):
    """The stage number that requires output, or None when the template has no such output."""
    return next((s["stage"] for s in template["stages"]
                 for o in s["outputs"] if o["key"] == output), None)


def total_planned_days(template):
    return sum(spec["planned_days"] for spec in template["stages"])


def satisfactions(templates=None):
    """The gate mapping of every published version:
    (ledger, event type) -> [{"output", "stage", "where", "on"}], without repeats."""
    found = {}
    for template in (templates or TEMPLATES.values()):
        for spec in template["stages"]:
            for output in spec["outputs"]:
                for rule in output.get("satisfied_by", []):
                    entry = {"output": output["key"], "stage": spec["stage"],
                             "where": rule["where"], "on": rule.get("on")}
                    wanted = found.setdefault((rule["ledger"], rule["type"]), [])
                    if entry not in wanted:
                        wanted.append(entry)
    return found


def problems(template):
    """What is wrong with a template (an empty list when it can be published)."""
    found = []
    stages = template.get("stages") or []
    if [s.get("stage") for s in stages] != list(range(1, len(stages) + 1)):
        found.append("stages must be numbered 1, 2, ... in order")
    keys = [o["key"] for s in stages for o in s["outputs"]]
    found += [f"output {k} is required by more than one stage" for k in sorted(set(keys))
              if keys.count(k) > 1]
    for spec in stages:
        days = spec.get("planned_days")
        if type(days) is not int or days < 1:
            found.append(f"stage {spec['stage']}: planned_days must be a whole number >= 1")
        own = {o["key"] for o in spec["outputs"]}
        produced = set()
        for act in spec["activities"]:
            produced.update(act["produces"])
            found += [f"stage {spec['stage']}: activity {act['key']} produces {out}, which "
                      f"is not an output of its stage" for out in act["produces"]
                      if out not in own]
        for output in spec["outputs"]:
            if output["key"] not in produced and not output.get("satisfied_by"):
                found.append(f"stage {spec['stage']}: nothing but a waiver can produce "
                             f"{output['key']}")
            for rule in output.get("satisfied_by", []):
                if not {"ledger", "type", "where"} <= set(rule):
                    found.append(f"{output['key']}: satisfied_by needs ledger, type and where")
    return found


for _template in TEMPLATES.values():  # a mistyped template must not start a service
    if problems(_template):
        raise ValueError(f"template {_template['id']} v{_template['version']}: "
                         f"{'; '.join(problems(_template))}")
