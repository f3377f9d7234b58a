"""The platform's one reader of moments (shared/moments.py): what every `as_of` of the
cycle and the audit, and a bundle's `from` and `to`, take and refuse."""
from datetime import UTC, date, datetime

import pytest
from marshmallow import ValidationError

from shared import moments


@pytest.mark.parametrize("text, read", [
    ("2026-03-01", date(2026, 3, 1)),
    ("0001-01-01", date(1, 1, 1)),
    ("2026-03-01T08:00Z", datetime(2026, 3, 1, 8, tzinfo=UTC)),
    ("2026-03-01T08:00:00+07:00", datetime(2026, 3, 1, 1, tzinfo=UTC)),
    ("2026-03-01T08:00:00.5-03:30", datetime(2026, 3, 1, 11, 30, 0, 500000, UTC)),
    ("2026-03-01T08:00:00.123456Z", datetime(2026, 3, 1, 8, 0, 0, 123456, UTC)),
    ("2026-03-01T05:00+09:00", datetime(2026, 2, 28, 20, tzinfo=UTC)),
])
def test_a_date_is_read_as_written_and_a_time_as_its_instant_in_utc(text, read):
    got = moments.read(text)
    assert got == read and type(got) is type(read)
    if isinstance(got, datetime):
        assert got.utcoffset().total_seconds() == 0


def test_a_date_stands_for_its_end_or_with_starts_its_start_in_utc():
    assert moments.instant(date(2026, 3, 1)) == datetime(2026, 3, 1, 23, 59, 59, 999999, UTC)
    assert moments.instant(date(2026, 3, 1), starts=True) == datetime(2026, 3, 1, tzinfo=UTC)
    assert moments.instant(moments.read("2026-03-01T08:00+07:00"), starts=True) == \
        datetime(2026, 3, 1, 1, tzinfo=UTC)
    assert moments.end_of(date(9999, 12, 31)).year == 9999


@pytest.mark.parametrize("text, words", [
    (None, "must be an ISO-8601 date (2026-03-01) or time with zone"),
    ("", "must be an ISO-8601 date"),
    (20260301, "must be an ISO-8601 date"),
    (" 2026-03-01", "has spaces or a line break around it"),
    ("2026-03-01\n", "has spaces or a line break around it"),
    ("2026-03-01T08:00:00Z\r\n", "has spaces or a line break around it"),
    ("\u00a02026-03-01", "has spaces or a line break around it"),
    ("2026-03-01T08:00:00", "has no time zone: add Z or an offset such as +07:00"),
    ("2026-03-01T25:00Z", "is not a valid ISO-8601 time"),
    ("2026-02-30T08:00Z", "is not a valid ISO-8601 time"),
    ("0001-01-01T00:00:00+14:00", "is out of range once in UTC"),
    ("2026-02-30", "is not a calendar date"),
    ("2026-13-01", "is not a calendar date"),
    ("yesterday", "is not an ISO-8601 date"),
    ("20260301", "is not an ISO-8601 date"),
    ("20260301T080000Z", "is not an ISO-8601 date"),
    ("2026-W09-1", "is not an ISO-8601 date"),
    ("2026-060", "is not an ISO-8601 date"),
    ("2026-3-1", "is not an ISO-8601 date"),
    ("2026-03-01 08:00Z", "is not an ISO-8601 date"),
    ("2026-03-01t08:00Z", "is not an ISO-8601 date"),
    ("2026-03-01T08Z", "is not an ISO-8601 date"),
    ("2026-03-01T08:00:00z", "is not an ISO-8601 date"),
    ("2026-03-01T08:00:00+0700", "is not an ISO-8601 date"),
    ("2026-03-01T08:00:00,5Z", "is not an ISO-8601 date"),
    ("2026-03-01T08:00:00.1234567Z", "is not an ISO-8601 date"),
    ("\u0662\u0660\u0662\u0666-\u0660\u0663-\u0660\u0661", "is not an ISO-8601 date"),
    ("\uff12\uff10\uff12\uff16-03-01", "is not an ISO-8601 date"),
    ("2026-03-01T0\u0668:00:00Z", "is not an ISO-8601 date"),
])
def test_anything_else_is_refused_saying_what_is_wrong(text, words):
    with pytest.raises(ValidationError) as refused:
        moments.read(text)
    assert words in " ".join(refused.value.messages)
