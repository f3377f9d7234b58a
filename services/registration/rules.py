"""Eligibility rule sets and the priority score: data and pure functions.

A rule set is data with an id and a version (published as an event, so every decision
can name the exact rules it applied). Each criterion reads one indicator (optionally a
field of it) and compares it with a threshold.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from shared.patterns import PLAIN_DECIMAL

RATINGS = ("tidak_memadai", "memadai", "baik")   # BKM bookkeeping, worst to best
OPERATORS = (">=", "<=", "==", "at_least")
THRESHOLD_DIGITS = (15, 6)   # at most 15 digits before a threshold's decimal point, 6 after

# The seed's five priorities ("DESA ATAU BKM YANG DIPRIORITASKAN UNTUK MENGELOLA PLPBK").
SEED_RULE_SET = {
    "id": "plpbk-seed", "version": 1,
    "note": "PLPBK seed: poverty >= 25%, dense/slum/poor area, bookkeeping at least memadai, "
            "BKM election turnout >= 30%, no unresolved fund misuse, Pemda priority",
    "criteria": [
        {"criterion": "poverty_rate", "indicator": "poverty_rate", "operator": ">=",
         "threshold": "25", "label": "Tingkat kemiskinan >= 25%"},
        {"criterion": "dense_slum_poor_area", "indicator": "slum_area", "field": "present",
         "operator": "==", "threshold": True,
         "label": "Memiliki kawasan permukiman padat, kumuh dan miskin"},
        {"criterion": "bookkeeping", "indicator": "bookkeeping_rating", "operator": "at_least",
         "threshold": "memadai", "label": "Kinerja pembukuan sekretariat BKM/LKM minimum memadai"},
        {"criterion": "voter_turnout", "indicator": "voter_turnout", "operator": ">=",
         "threshold": "30", "label": "Pemilih dewasa dalam pemilu BKM/LKM minimum 30%"},
        {"criterion": "no_unresolved_misuse", "indicator": "fund_misuse_cases",
         "operator": "==", "threshold": 0,
         "label": "Tidak ada kasus penyalahgunaan dana yang belum diselesaikan"},
        {"criterion": "pemda_priority", "indicator": "pemda_priority", "field": "prioritised",
         "operator": "==", "threshold": True,
         "label": "Diprioritaskan penanganannya oleh pemerintah daerah"},
    ],
}


def evaluate(rule_set, readings):
    """Each criterion's result: pass / fail / missing, with the value and threshold used.

    readings: indicator name -> {"value": ..., "event_id": ...} (the current evidence).
    """
    results = []
    for criterion in rule_set["criteria"]:
        reading = readings.get(criterion["indicator"])
        value = None
        if reading is not None:
            value = reading["value"]
            if criterion.get("field"):
                value = value.get(criterion["field"]) if isinstance(value, dict) else None
        result = "missing" if value is None else (
            "pass" if _holds(criterion, value) else "fail")
        results.append({"criterion": criterion["criterion"], "result": result, "value": value,
                        "operator": criterion["operator"], "threshold": criterion["threshold"],
                        "evidence": reading["event_id"] if reading else None})
    return results


def status_of(criteria):
    """eligible: all pass; ineligible: any fails; incomplete: evidence missing, none fails."""
    outcomes = {c["result"] for c in criteria}
    if "fail" in outcomes:
        return "ineligible"
    return "incomplete" if "missing" in outcomes else "eligible"


def _holds(criterion, value):
    operator, threshold = criterion["operator"], criterion["threshold"]
    if operator == "at_least":
        scale = criterion.get("scale", RATINGS)
        return value in scale and scale.index(value) >= scale.index(threshold)
    if operator == "==":
        return _number(value) == _number(threshold) if _is_number(threshold) else \
            value == threshold
    left, right = _number(value), _number(threshold)
    if left is None or right is None:
        return False
    return left >= right if operator == ">=" else left <= right


def _plain_number(value):
    """An integer, or a decimal string as people write one (shared.patterns.PLAIN_DECIMAL:
    the digits 0-9, an optional minus and decimal point; no exponent, NaN, Infinity,
    spaces, plus sign, separators or other scripts' digits), of THRESHOLD_DIGITS at most."""
    if isinstance(value, str):
        if PLAIN_DECIMAL.fullmatch(value) is None:
            return False
        whole, _, fraction = value.lstrip("-").partition(".")
        return len(whole) <= THRESHOLD_DIGITS[0] and len(fraction) <= THRESHOLD_DIGITS[1]
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return not isinstance(value, bool) and _number(value) is not None


def _number(value):
    """The finite number a value holds, or None (NaN or Infinity compare with nothing)."""
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def check_rule_set(rule_set):
    """Problems with a rule set offered for publication, as (field, problem) with the
    field named as the request names it (criteria.0.threshold); empty list: fine."""
    problems = []
    criteria = rule_set.get("criteria") or []
    if not criteria:
        problems.append(("criteria", "at least one criterion is needed"))
    seen = set()
    for index, criterion in enumerate(criteria):
        where = f"criteria.{index}"
        if criterion.get("criterion") in seen:
            problems.append((f"{where}.criterion",
                             f"{criterion.get('criterion')!r} appears twice"))
        seen.add(criterion.get("criterion"))
        problems += [(f"{where}.{field}", problem)
                     for field, problem in _criterion_problems(criterion)]
    return problems


def _criterion_problems(criterion):
    """What is wrong with one criterion: its indicator and field, then its operator and
    threshold against the kind of value they read (VALUE_KINDS)."""
    indicator = criterion.get("indicator")
    if indicator not in INDICATOR_UNITS:
        return [("indicator", f"unknown indicator {indicator!r}")]
    if criterion.get("field") not in INDICATOR_FIELDS.get(indicator, (None,)):
        fields = INDICATOR_FIELDS.get(indicator)
        return [("field", f"must be one of {', '.join(fields)}" if fields else
                 f"{indicator} is a single value, with no fields")]
    operator, threshold = criterion.get("operator"), criterion.get("threshold")
    if operator not in OPERATORS:
        return [("operator", f"must be one of {', '.join(OPERATORS)}")]
    kind = VALUE_KINDS[(indicator, criterion.get("field"))]
    if operator not in KIND_OPERATORS[kind]:
        read = ".".join(filter(None, (indicator, criterion.get("field"))))
        return [("operator", f"{read} compares with {' or '.join(KIND_OPERATORS[kind])}")]
    if kind == "rating":
        return [] if threshold in criterion.get("scale", RATINGS) else \
            [("threshold", "not on the scale")]
    if kind == "yes_no":
        return [] if isinstance(threshold, bool) else \
            [("threshold", "must be true or false (a JSON boolean, not text or a number)")]
    if kind == "level":
        return [] if threshold in KOTAKU_LEVELS else \
            [("threshold", f"must be a KOTAKU level: {', '.join(KOTAKU_LEVELS)}")]
    if not _plain_number(threshold):
        return [("threshold", f"must be a number for {operator} (an integer, or a decimal "
                 "string written with the digits 0-9, such as \"25\" or \"25.5\")")]
    return []


# Priority score (documented in docs/registration.md), 0..100, two decimals:
#   0.5 x poverty rate (%) + 0.3 x KOTAKU slum score scaled to 0..100 (total / 80 x 100)
#   + 0.2 x BKM election turnout (%).
# A missing component counts 0, so recording evidence can only raise a village's score.
SCORE_WEIGHTS = {"poverty_rate": Decimal("0.5"), "kotaku_slum_score": Decimal("0.3"),
                 "voter_turnout": Decimal("0.2")}


def priority_score(readings) -> str:
    poverty = _number(_value(readings, "poverty_rate")) or Decimal(0)
    turnout = _number(_value(readings, "voter_turnout")) or Decimal(0)
    kotaku = _value(readings, "kotaku_slum_score")
    slum = Decimal(kotaku["total"]) * 100 / 80 if kotaku else Decimal(0)
    score = (SCORE_WEIGHTS["poverty_rate"] * poverty + SCORE_WEIGHTS["kotaku_slum_score"] * slum
             + SCORE_WEIGHTS["voter_turnout"] * turnout)
    return str(score.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _value(readings, name):
    reading = readings.get(name)
    return reading["value"] if reading else None


INDICATOR_UNITS = {"poverty_rate": "%", "slum_area": "ha", "bookkeeping_rating": "rating",
                   "voter_turnout": "%", "fund_misuse_cases": "cases",
                   "pemda_priority": "decree", "kotaku_slum_score": "points"}
# The fields a criterion may read of the indicators recorded as objects (schemas.py).
INDICATOR_FIELDS = {"slum_area": ("present", "hectares"),
                    "pemda_priority": ("prioritised",),
                    "kotaku_slum_score": ("total", "level")}
# The kind of value a criterion reads (an indicator, or a field of it), and the operators
# each kind compares with. A threshold of another kind (the text "true" for a yes/no, a
# rating for a percentage) would pass no village: publishing the active rule set then
# re-decides every village in the country as failing that criterion.
VALUE_KINDS = {("poverty_rate", None): "number", ("voter_turnout", None): "number",
               ("fund_misuse_cases", None): "number", ("slum_area", "hectares"): "number",
               ("kotaku_slum_score", "total"): "number", ("bookkeeping_rating", None): "rating",
               ("slum_area", "present"): "yes_no", ("pemda_priority", "prioritised"): "yes_no",
               ("kotaku_slum_score", "level"): "level"}
KIND_OPERATORS = {"number": (">=", "<=", "=="), "rating": ("at_least", "=="),
                  "yes_no": ("==",), "level": ("==",)}

# KOTAKU slum assessment: 7 aspects, 16 sub-criteria, each scored 0/1/3/5 by the share of
# the area affected (<25%, 25-50%, 51-75%, 76-100%).
KOTAKU_ASPECTS = {
    "bangunan": ["ketidakteraturan_bangunan", "kepadatan_bangunan",
                 "ketidaksesuaian_persyaratan_teknis"],
    "jalan_lingkungan": ["cakupan_pelayanan_jalan", "kualitas_permukaan_jalan"],
    "air_minum": ["akses_aman_air_minum", "kebutuhan_air_minum"],
    "drainase": ["genangan", "ketersediaan_drainase", "kualitas_konstruksi_drainase"],
    "air_limbah": ["sistem_air_limbah", "prasarana_air_limbah"],
    "persampahan": ["prasarana_persampahan", "sistem_persampahan"],
    "proteksi_kebakaran": ["prasarana_proteksi_kebakaran", "sarana_proteksi_kebakaran"],
}
KOTAKU_SUBCRITERIA = [name for names in KOTAKU_ASPECTS.values() for name in names]
KOTAKU_SCORES = (0, 1, 3, 5)
KOTAKU_LEVELS = ("bukan_kumuh", "ringan", "sedang", "berat")   # by total, lightest first


def kotaku_level(total: int) -> str:
    if total >= 60:
        return KOTAKU_LEVELS[3]
    if total >= 38:
        return KOTAKU_LEVELS[2]
    if total >= 16:
        return KOTAKU_LEVELS[1]
    return KOTAKU_LEVELS[0]
