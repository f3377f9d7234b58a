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


@pytest.mark.parametrize("day", ["2026-02-29", "2026-02-30", "2026-13-01", "2026-00-10",
                                 "0000-01-01"])
def test_a_day_no_calendar_has_is_not_a_day_the_recorded_one_is_used(day):
    assert views._happened_on(record(approved_on=day), "approved_on") == "2026-03-02"
    assert views._happened_on(record(approved_on="2024-02-29"), "approved_on") == "2024-02-29"


@pytest.mark.parametrize("day", ["2026-03-03", "2099-01-01"])
def test_a_day_after_the_event_was_recorded_is_not_when_it_happened(day):
    """An output done on a later day than its source recorded it (a planned handover date,
    2206 typed for 2026) could never be followed by a completion (completed_on is not
    after today and not before its outputs), nor be waived (it is done): the village's
    stage would be stuck for ever. The day recorded stands in for it."""
    assert views._happened_on(record(approved_on=day), "approved_on") == "2026-03-02"
    # late in the UTC day it is already the next day in Papua (UTC+9): that day may be given
    late = SimpleNamespace(payload={"approved_on": "2026-03-03"},
                           recorded_at="2026-03-02T16:00:00.000000Z")
    assert views._happened_on(late, "approved_on") == "2026-03-03"
