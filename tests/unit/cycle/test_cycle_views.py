"""services/cycle/views.py: the day a mapped source event says an output was satisfied."""
from types import SimpleNamespace

import pytest

from services.cycle import views


def record(**payload):
    return SimpleNamespace(payload=payload, recorded_at="2026-03-02T01:00:00.000000Z")


def test_the_day_the_source_gives_is_the_day_it_happened():
    assert views._happened_on(record(approved_on="2026-02-27"), "approved_on") == "2026-02-27"
    assert views._happened_on(record(), "approved_on") == "2026-03-02"
    assert views._happened_on(record(approved_on="2026-02-27"), None) == "2026-03-02"


@pytest.mark.parametrize("day", ["٢٠٢٦-٠٢-٢٧", "２０２６-０２-２７", "2026-02-٢٧", "२०२६-०२-२७",
                                 "2026-02-27\n", " 2026-02-27", "2026-2-27", "27-02-2026"])
def test_a_day_in_other_digits_or_form_is_not_a_day_the_recorded_one_is_used(day):
    # Python's \d is any Unicode digit: '٢٠٢٦-٠٢-٢٧' would be taken as the day and then
    # compared, as text, with ASCII days (due dates, on-time shares)
    assert not views.ISO_DAY.fullmatch(day)
    assert views._happened_on(record(approved_on=day), "approved_on") == "2026-03-02"
