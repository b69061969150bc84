"""What `trueup.checks.context` gives checks besides tables: `config.local_date(x)` is the calendar
day `CAST(x AS DATE)` gives, in any time zone, for any instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueup.checks.context import local_date

AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)
# Summer time of an hour, of half an hour (Lord Howe), none (Kolkata, UTC), Samoa, which skipped
# a whole day at the end of 2011, and Casablanca, whose summer time stops for Ramadan.
ZONES = ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia", "Africa/Casablanca", "UTC"]
# Around summer time changes and Samoa's skipped day, inside the window (1996-2036) and outside it.
AROUND = [
    datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2025, 11, 2, 6, tzinfo=UTC), datetime(2011, 12, 30, 10, tzinfo=UTC),
    datetime(2026, 4, 5, 15, tzinfo=UTC), datetime(2024, 3, 10, 2, tzinfo=UTC), AS_OF,
    datetime(1996, 11, 2, tzinfo=UTC), datetime(1950, 6, 1, tzinfo=UTC), datetime(1969, 12, 31, 20, tzinfo=UTC),
    datetime(2036, 10, 31, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC),
]  # fmt: skip


def _connect(zone: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [zone])
    con.execute("CREATE SCHEMA config")
    con.execute("CREATE TABLE config.settings AS SELECT ?::TIMESTAMPTZ AS as_of", [AS_OF])
    con.execute(f"CREATE MACRO config.local_date(x) AS {local_date(con)}")
    return con


@pytest.fixture(scope="module")
def zones() -> dict[str, duckdb.DuckDBPyConnection]:
    return {zone: _connect(zone) for zone in ZONES}


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(zone=st.sampled_from(ZONES), around=st.sampled_from(AROUND), shift=st.integers(-3 * 86_400, 3 * 86_400))
def test_local_date_is_the_cast(zones: dict[str, duckdb.DuckDBPyConnection], zone: str, around: datetime,
                                shift: int) -> None:  # fmt: skip
    """Every instant from two days before to two days after a moment, a minute and 7 seconds
    apart, and a microsecond either side of each whole quarter hour (where days begin), and none,
    has the day the cast gives."""
    start = around + timedelta(seconds=shift)
    counted = zones[zone].execute(
        """
        WITH instants AS (
          SELECT t FROM generate_series(?::TIMESTAMPTZ - INTERVAL 2 DAY, ?::TIMESTAMPTZ + INTERVAL 2 DAY,
                                        INTERVAL 67 SECOND) g(t)
          UNION ALL
          SELECT time_bucket(INTERVAL 15 MINUTE, ?::TIMESTAMPTZ) + to_minutes(15 * q) + to_microseconds(us)
          FROM range(-200, 200) a(q), range(-1, 2) b(us)
          UNION ALL SELECT NULL
        )
        SELECT count(*), count(*) FILTER (WHERE config.local_date(t) IS DISTINCT FROM CAST(t AS DATE)) FROM instants
        """,
        [start, start, start],
    ).fetchone()
    assert counted is not None and counted[0] > 6000 and counted[1] == 0


def test_a_window_reaching_back_before_1970_starts_after_it() -> None:
    """With `as_of` in 1990 the window would start in 1960: instants before 1970 are cast (an
    integer division of a negative number rounds toward zero, which would name the wrong day)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")
    con.execute("CREATE SCHEMA config")
    con.execute("CREATE TABLE config.settings AS SELECT TIMESTAMPTZ '1990-06-01 12:00:00+00' AS as_of")
    con.execute(f"CREATE MACRO config.local_date(x) AS {local_date(con)}")
    differ = con.execute(
        "SELECT count(*) FILTER (WHERE config.local_date(t) IS DISTINCT FROM CAST(t AS DATE)) FROM generate_series("
        " TIMESTAMPTZ '1969-12-25 00:00:00+00', TIMESTAMPTZ '1970-01-05 00:00:00+00', INTERVAL 7 MINUTE) g(t)"
    ).fetchone()
    assert differ == (0,)


def test_most_days_need_no_cast(zones: dict[str, duckdb.DuckDBPyConnection]) -> None:
    """Each zone's days in the window are told by a few bits each: one offset in Kolkata, two in New
    York, and its two days a year the clocks change are cast."""
    assert "list_extract([19800000000]," in local_date(zones["Asia/Kolkata"])
    assert "list_extract([-18000000000, -14400000000]," in local_date(zones["America/New_York"])
