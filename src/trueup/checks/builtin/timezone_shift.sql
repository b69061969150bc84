-- name: timezone_shift
-- category: vendor_setting
-- severity: warning
-- cause: configuration
-- description: >
--   A system's times that are another system's times for the same records shifted by a time
--   zone's offset, record after record (four hours in a New York summer, five in its winter): times
--   written in one zone and read in another, a setting of the export or of the system's or field's
--   `timezone`, not a series of late or early records.
WITH shifted AS (  -- each record once, however many systems its time was compared with
  SELECT entity, field, system, written_in, read_in, source_id, canonical_id, min(hours) AS hours,
    max(compared) AS compared, list(DISTINCT against) AS against, any_value(declare) AS declare
  FROM config.time_shifts GROUP BY entity, field, system, written_in, read_in, source_id, canonical_id
), found AS (
  SELECT entity, field, system, written_in, read_in, count(*) AS records, max(compared) AS compared,
    any_value(declare) AS declare,
    min(abs(hours)) AS low, max(abs(hours)) AS high, max(hours) > 0 AS later,
    array_to_string(list_sort(list_distinct(flatten(list(against)))), ' and ') AS against,
    list({'entity': entity, 'system': system, 'source_id': source_id, 'canonical_id': canonical_id} ORDER BY source_id)
      AS entities
  FROM shifted GROUP BY entity, field, system, written_in, read_in
)
SELECT entities, entity || '.' || field || ':' || system AS key, field, system AS owner,
  printf('%s %s %s: %s of %s records are %s hours %s than in %s, written in %s and read as %s', system, entity,
         field, format('{:,}', records), format('{:,}', compared),
         CASE WHEN low = high THEN printf('%g', low) ELSE printf('%g to %g', low, high) END,
         CASE WHEN later THEN 'later' ELSE 'earlier' END, against, written_in, read_in) AS title,
  printf('time zone: %s %s %s is written in %s and read as %s', system, entity, field, written_in, read_in)
    AS cause_reason,
  printf('%s writes these times without an offset in %s; trueup reads them in %s. %s Or make the export write the'
         ' offset. Then run again.', system, written_in, read_in, declare) AS detail
FROM found
