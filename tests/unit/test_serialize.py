from datetime import UTC, date, datetime, time, timedelta, timezone

from civicpulse.serialize import aware, iso, jsonable


def test_naive_datetimes_are_taken_as_utc_and_aware_ones_keep_their_offset():
    assert aware(datetime(2026, 5, 1, 8, 30)) == datetime(2026, 5, 1, 8, 30, tzinfo=UTC)
    shanghai = timezone(timedelta(hours=8))
    at = datetime(2026, 5, 1, 8, 30, tzinfo=shanghai)
    assert aware(at) is at
    assert aware(None) is None


def test_iso_writes_rfc3339_with_the_offset_and_leaves_other_values_alone():
    assert iso(datetime(2026, 5, 1, 8, 30)) == "2026-05-01T08:30:00+00:00"
    assert iso(datetime(2026, 5, 1, 8, 30, tzinfo=timezone(timedelta(hours=8)))) \
        == "2026-05-01T08:30:00+08:00"
    assert iso(date(2026, 5, 1)) == "2026-05-01"
    assert iso(time(8, 30)) == "08:30:00"
    assert iso(None) is None and iso(3) == 3 and iso("x") == "x"


def test_jsonable_converts_every_value_of_a_row():
    row = {"id": "x", "at": datetime(2026, 5, 1), "day": date(2026, 5, 1), "n": None, "k": 2}
    assert jsonable(row) == {"id": "x", "at": "2026-05-01T00:00:00+00:00", "day": "2026-05-01",
                             "n": None, "k": 2}
