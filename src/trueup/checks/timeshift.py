"""Times one system holds shifted by a time zone's offset: `config.time_shifts`.

An export that writes times without an offset is read in its system's `timezone` (or a field's
own, or the workspace's). When those times were written in another zone (UTC, most often: an
API's times pasted into a CSV), every one of them is off by the difference between the two zones'
offsets: four hours in a New York summer, five in its winter. Compared with the same record's time
in another system, the difference is exactly that, record after record. Such a difference is a
setting, not a series of late or early records, and the check `timezone_shift` reports it once.

For each timestamp field two or more systems map, the records of a real thing both hold are
paired by canonical id, and each pair is tested for the two mix-ups there are: written in UTC, or
written in the workspace's zone, and read in the zone the field is read in. A time is mixed up
when its clock time in the zone it was read in is the other's clock time in the zone it was
written in (which holds across a change of the clocks too, where the offsets at the two instants
differ by an hour). A first pass looks at a sample of the records (by a hash of their canonical
id, the same ones in every system); only a field whose sampled pairs are mostly shifted one way is
looked at in full, so the usual run, with nothing shifted, costs one scan of each such entity's
records. Each mixed-up record of the shifted system becomes one row of `config.time_shifts`, with
the declaration that fixes it: the system's `timezone` when all its compared times are shifted
alike (an API export), else the field's own (one column pasted from elsewhere).
"""

from __future__ import annotations

import duckdb

from trueup.config.models import Workspace as Config
from trueup.config.models import zone_of
from trueup.ingest.base import literal
from trueup.model import COPIES, ENTITIES, Kind
from trueup.resolve import records_table
from trueup.warehouse import ident, scalar, table_exists

TABLE = "config.time_shifts"
LINKS = "links"  # the link step's pairs of records of one real thing (not imported: that step imports Splink)
STAMPS = ("created_at", "updated_at")  # each system stamps its own record with these: not one fact
SAMPLED = 20_000  # records of an entity the first pass looks at, about
MIN_SHIFTED = 5  # pairs shifted alike, at least, and...
MIN_SHARE = 0.5  # ...at least this share of the pairs compared
Suspect = tuple[str, str, str, str, str]  # entity, field, shifted system, zone written in, the other system


def write(con: duckdb.DuckDBPyConnection, ws: Config, entities: list[str]) -> None:
    """`config.time_shifts`: each record whose time is shifted against another system's, with the
    field, the zone its times were written in and the zone they were read in, the system it was
    compared with, how many hours off it is, how many of its system's records were compared, and
    what to declare in `trueup.yaml` to read them right."""
    con.execute(
        f"CREATE OR REPLACE TABLE {TABLE} (entity VARCHAR, field VARCHAR, system VARCHAR, source_id VARCHAR,"
        " canonical_id VARCHAR, against VARCHAR, written_in VARCHAR, read_in VARCHAR, hours DOUBLE,"
        " compared BIGINT, declare VARCHAR)"
    )
    linked = (
        scalar(con, f"SELECT list(DISTINCT entity) FROM {LINKS}")
        if table_exists(con, "main", LINKS)
        else None
    )
    shared = {entity: _shared_times(ws, entity) for entity in entities}
    suspects: list[Suspect] = []
    for entity, fields in shared.items():
        if not fields or entity not in (linked or []):  # (no record of one system is a record of another)
            continue
        buckets = max(1, scalar(con, f"SELECT count(*) FROM {records_table(entity)}") // SAMPLED)
        suspects += [(entity, *suspect) for suspect in _suspects(con, ws, entity, fields, buckets)]
    for entity, field, system, written_in, against in suspects:
        whole = _whole_system(ws, shared, suspects, system, written_in)
        declare = _declaration(ws, entity, field, system, written_in, whole_system=whole)
        shifted = _shifted_sql(ws, entity, field, system, written_in, against)
        con.execute(f"INSERT INTO {TABLE} SELECT *, {literal(declare)} FROM ({shifted})")


def _whole_system(
    ws: Config,
    shared: dict[str, dict[str, list[str]]],
    suspects: list[Suspect],
    system: str,
    written_in: str,
) -> bool:
    """Whether every time of the system that other systems also hold is shifted alike, and none has
    a zone of its own: then the system's `timezone` is the fix, not a field's."""
    times = {(e, f) for e, fields in shared.items() for f, held in fields.items() if system in held}
    alike = {(e, f) for e, f, s, w, _ in suspects if s == system and w == written_in}
    return times <= alike and not any(ws.entities[e][system].field(f).timezone for e, f in times)


def _declaration(
    ws: Config, entity: str, field: str, system: str, written_in: str, whole_system: bool
) -> str:
    """What to declare so that these times are read in the zone they were written in: the system's
    `timezone` for a whole system shifted alike, else this field's."""
    if whole_system:
        return f"Declare `timezone: {written_in}` on system {system} in trueup.yaml."
    expr = literal(ws.entities[entity][system].field(field).expr)  # (YAML's single quotes escape as SQL's)
    return (
        f"In trueup.yaml, give this field its own zone: `{field}: {{expr: {expr}, timezone: {written_in}}}`"
        f" under entities.{entity}.{system}.fields."
    )


def _shared_times(ws: Config, entity: str) -> dict[str, list[str]]:
    """The entity's timestamp fields two or more systems map, with those systems: the times of one
    fact (when a job was completed, an invoice issued), not a record's own stamps."""
    mappings = ws.entities.get(entity, {})
    shared = {}
    for field, kind in ENTITIES[entity].fields.items():
        systems = sorted(s for s, m in mappings.items() if field in m.fields)
        if (
            kind is Kind.TIMESTAMP
            and field not in STAMPS
            and (entity, field) not in COPIES
            and len(systems) >= 2
        ):
            shared[field] = systems
    return shared


def _mixed_up(written_in: str, read_in: str, shifted: str, truth: str) -> str:
    """Whether the instant `shifted` is the instant `truth` written in one zone and read in another:
    its clock time where it was read is the truth's where it was written. (The offset between the
    two zones at the truth's instant is not enough: around a change of the clocks, the time read
    lands on the other side of it.)"""
    return f"timezone({literal(read_in)}, {shifted}) = timezone({literal(written_in)}, {truth})"


def _mixups(ws: Config, system: str, entity: str, field: str) -> list[str]:
    """The zones a system's times of a field may have been written in by mistake: UTC, and the
    workspace's, where they differ from the zone the field is read in."""
    read_in = zone_of(ws, system, entity, field)
    return [zone for zone in dict.fromkeys(("UTC", ws.timezone)) if zone != read_in]


def _suspects(
    con: duckdb.DuckDBPyConnection, ws: Config, entity: str, fields: dict[str, list[str]], buckets: int
) -> list[tuple[str, str, str, str]]:
    """The (field, shifted system, zone written in, the other system) whose sampled pairs are
    mostly shifted that way, counted per pair of systems in one pass over the sample."""
    mixups = sorted(
        {
            (w, zone_of(ws, s, entity, f))
            for f, held in fields.items()
            for s in held
            for w in _mixups(ws, s, entity, f)
        }
    )
    counts = []
    for field, held in fields.items():
        f = ident(field)
        counts.append(f"count(*) FILTER (WHERE a.{f} IS NOT NULL AND b.{f} IS NOT NULL)")
        for written_in, read_in in mixups:  # a is off: its time is the truth (b's) shifted
            read = [literal(s) for s in held if zone_of(ws, s, entity, field) == read_in]
            counts.append(
                f"count(*) FILTER (WHERE a.system IN ({', '.join(read)}) AND a.{f} <> b.{f}"
                f" AND {_mixed_up(written_in, read_in, f'a.{f}', f'b.{f}')})"
                if read
                else "0"  # no system reads this field in that zone
            )
    sample = (
        f"SELECT system, canonical_id, {', '.join(ident(f) for f in fields)} FROM {records_table(entity)}"
        f" WHERE hash(canonical_id) % {buckets} = 0"
    )
    rows = con.execute(
        f"WITH s AS MATERIALIZED ({sample}) SELECT a.system, b.system, {', '.join(counts)}"
        " FROM s a JOIN s b ON a.canonical_id = b.canonical_id AND a.system <> b.system GROUP BY ALL"
    ).fetchall()
    found, width = [], 1 + len(mixups)  # per field: the pairs compared, then the pairs shifted by each mix-up
    for off, other, *tallies in rows:
        for n, field in enumerate(fields):
            compared, *shifted = tallies[n * width : (n + 1) * width]
            for (written_in, _), count in zip(mixups, shifted, strict=True):
                if count >= MIN_SHIFTED and count >= MIN_SHARE * compared:
                    found.append((field, off, written_in, other))
    return sorted(found)


def _shifted_sql(ws: Config, entity: str, field: str, system: str, written_in: str, against: str) -> str:
    """Every record of the shifted system whose time is the other system's shifted by the mix-up,
    over all records, with how many of its records both systems time."""
    f, read_in, table = ident(field), zone_of(ws, system, entity, field), records_table(entity)
    return f"""
    WITH pairs AS (
      SELECT a.source_id, a.canonical_id, a.{f} AS t, b.{f} AS truth
      FROM {table} a JOIN {table} b ON b.canonical_id = a.canonical_id AND b.system = {literal(against)}
      WHERE a.system = {literal(system)} AND a.{f} IS NOT NULL AND b.{f} IS NOT NULL
    ), compared AS (SELECT count(DISTINCT source_id) AS n FROM pairs)
    SELECT {literal(entity)}, {literal(field)}, {literal(system)}, p.source_id, p.canonical_id, {literal(against)},
      {literal(written_in)}, {literal(read_in)}, min(epoch_us(p.t) - epoch_us(p.truth)) / 3.6e9, any_value(c.n)
    FROM pairs p CROSS JOIN compared c
    WHERE p.t <> p.truth AND {_mixed_up(written_in, read_in, "p.t", "p.truth")}
    GROUP BY p.source_id, p.canonical_id
    """
