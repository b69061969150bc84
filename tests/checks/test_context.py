"""What `trueup.checks.context` gives checks besides tables: `config.arrived_late` says what the
calendar-day comparison it stands for says, in any time zone, for any SLA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueup.checks.context import arrived_late

AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)
# Summer time of an hour, of half an hour (Lord Howe), none, and Samoa, which skipped a whole day
# at the end of 2011 (its offsets in the window are 25 hours apart).
ZONES = ["America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Apia", "UTC"]
# Instants around summer time changes and Samoa's skipped day, inside the window and far outside it.
AROUND = [
    datetime(2026, 3, 8, 6, tzinfo=UTC), datetime(2025, 11, 2, 5, tzinfo=UTC), datetime(2011, 12, 29, 10, tzinfo=UTC),
    datetime(2026, 4, 5, 15, tzinfo=UTC), AS_OF, datetime(1950, 6, 1, tzinfo=UTC), datetime(2090, 1, 1, tzinfo=UTC),
]  # fmt: skip
MICROS_A_DAY = 86_400_000_000


def _connect(zone: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = ?", [zone])
    con.execute("CREATE SCHEMA config")
    con.execute("CREATE TABLE config.settings AS SELECT ?::TIMESTAMPTZ AS as_of", [AS_OF])
    con.execute(f"CREATE MACRO config.arrived_late(started, arrived, sla) AS {arrived_late(con)}")
    return con


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    zone=st.sampled_from(ZONES),
    around=st.sampled_from(AROUND),
    shift=st.integers(-3 * MICROS_A_DAY, 3 * MICROS_A_DAY),
    at_midnight=st.sampled_from([None, 0, -1]),
    sla=st.one_of(
        st.integers(-2, 9).map(lambda d: f"to_days({d})"),
        st.integers(-50, 250).map(lambda h: f"to_hours({h}) + INTERVAL 17 SECOND"),
        st.sampled_from(["INTERVAL 1 MONTH", "INTERVAL 1 YEAR", "NULL::INTERVAL"]),
    ),
)
def test_arrived_late_is_the_calendar_day_comparison(
    zone: str, around: datetime, shift: int, at_midnight: int | None, sla: str
) -> None:
    """Every arrival from five days before to twelve after a start, 17 minutes and 3 seconds apart,
    and those a microsecond either side of whole days and half hours from it (where the band's
    edges lie: spreads are whole half hours), and none, is judged as the casts judge it; the start
    anywhere, or at a local midnight or a microsecond before, where the band is tight."""
    con = _connect(zone)
    started = around + timedelta(microseconds=shift)
    if at_midnight is not None:
        midnight = con.execute("SELECT date_trunc('day', ?::TIMESTAMPTZ)", [started]).fetchone()
        assert midnight is not None
        started = midnight[0] + timedelta(microseconds=at_midnight)
    differ = con.execute(
        f"""
        WITH pairs AS (
          SELECT ?::TIMESTAMPTZ AS started, a AS arrived, {sla} AS sla
          FROM generate_series(?::TIMESTAMPTZ - INTERVAL 5 DAY, ?::TIMESTAMPTZ + INTERVAL 12 DAY,
                               INTERVAL 17 MINUTE + INTERVAL 3 SECOND) g(a)
          UNION ALL
          SELECT ?::TIMESTAMPTZ, ?::TIMESTAMPTZ + to_microseconds(d * {MICROS_A_DAY} + h * 1800000000 + us), {sla}
          FROM range(-2, 13) d(d), range(-3, 4) h(h), range(-1, 2) u(us)
          UNION ALL SELECT NULL, ?::TIMESTAMPTZ, {sla} UNION ALL SELECT ?::TIMESTAMPTZ, NULL, {sla}
        )
        SELECT count(*), count(*) FILTER (WHERE config.arrived_late(started, arrived, sla)
                                          IS DISTINCT FROM (CAST(arrived AS DATE) > CAST(started AS DATE) + sla))
        FROM pairs
        """,
        [started] * 7,
    ).fetchone()
    assert differ is not None and differ[0] > 1400 and differ[1] == 0


def test_the_spread_of_a_zones_offsets_is_measured() -> None:
    """Where offsets never change, no pair is cast; Samoa's skipped day widens the band to 25 hours."""
    assert "+ 86400000000 THEN true" in arrived_late(_connect("Asia/Kolkata"))
    assert f"+ {MICROS_A_DAY + 25 * 3_600_000_000} THEN true" in arrived_late(_connect("Pacific/Apia"))
