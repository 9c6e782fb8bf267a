"""The number of call records per minute on PostgreSQL, so that the ``count`` of a page of
call records (``vdn/querycalls``) does not count every record of its range.

PostgreSQL counts 100,000 index entries in tens of ms (an index-only scan still visits
the table for the pages changed since the last vacuum), where SQLite counts its covering
index in a few. ``call_record_minute`` holds the records (ended calls) of each call
center, VDN, direction and minute they entered (``arrived_at`` floored to the minute),
written in the batch's transaction from the calls it changed and in pruning from the
records it deleted. The count of a range is then the sum of its whole minutes (at most
2,880 rows for the two days kept) and the records of its two partial edge minutes, read
from the records' index. With a calling or called number the count reads the index, as
on SQLite: those filters are not kept per minute.

A batch locks the minutes it changes after its calls, in key order, so two batches do not
deadlock (the order of every batch: event ids, calls, minutes, agents, change counter).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from ccms.domain.call import CallKey, CallRecord, RecordQuery
from ccms.store import calls as call_sql
from ccms.store.listing import Dialect

MINUTE_MS = 60_000
_PG = Dialect.POSTGRES
# One minute's records: (cc_id, vdn, call_in, minute).
Bucket = tuple[int, int, bool, int]

_ADD = (
    "INSERT INTO call_record_minute AS m (cc_id, vdn, call_in, minute, records)"
    " SELECT * FROM unnest($1::integer[], $2::integer[], $3::boolean[], $4::bigint[],"
    " $5::integer[]) ON CONFLICT (cc_id, vdn, call_in, minute)"
    " DO UPDATE SET records = m.records + EXCLUDED.records"
)
# ``arrived_at`` floored to the minute (``/`` truncates toward zero; the records entered
# before 1970 too are counted in the minute Python's ``//`` gives them).
_MINUTE = f"(arrived_at - (arrived_at % {MINUTE_MS} + {MINUTE_MS}) % {MINUTE_MS}) / {MINUTE_MS}"
# Pruning (statements of one parameter, the oldest moment kept): the records that ended
# before it, taken off their minutes (in one statement: the deleted rows are counted as
# they are deleted), then the minutes before it left empty. (An empty minute counts
# nothing: one left in the days kept, by a record that moved, goes once it is older.)
PRUNE = [
    "WITH gone AS (DELETE FROM call WHERE ended_at < $1 RETURNING cc_id, vdn, call_in,"
    f" {_MINUTE} AS minute), lost AS (SELECT cc_id, vdn, call_in, minute, count(*) AS n"
    " FROM gone GROUP BY cc_id, vdn, call_in, minute)"
    " UPDATE call_record_minute AS m SET records = m.records - lost.n FROM lost"
    " WHERE (m.cc_id, m.vdn, m.call_in, m.minute) = (lost.cc_id, lost.vdn, lost.call_in,"
    " lost.minute)",
    f"DELETE FROM call_record_minute WHERE records = 0 AND minute < $1::bigint / {MINUTE_MS}",
]
# The backfill of a store that kept calls before (the migration's statement, and a test's
# recount).
RECOUNT = (
    f"SELECT cc_id, vdn, call_in, {_MINUTE} AS minute, count(*)::integer FROM call"
    " WHERE ended_at IS NOT NULL GROUP BY 1, 2, 3, 4"
)


def bucket(r: CallRecord | None) -> Bucket | None:
    """The minute ``r`` is counted in; ``None`` for a live call (not a record yet)."""
    if r is None or r.ended_at is None:
        return None
    return (r.cc_id, r.vdn, r.call_in, r.arrived_at // MINUTE_MS)


def changes(
    before: Mapping[CallKey, CallRecord], after: Mapping[CallKey, CallRecord]
) -> dict[Bucket, int]:
    """What the calls of ``after`` (each as written; ``before``: as it was, if known)
    change in the minutes' counts, without the minutes they leave as they were."""
    delta: Counter[Bucket] = Counter()
    for key, new in after.items():
        old = bucket(before.get(key))
        if old is not None:
            delta[old] -= 1
        added = bucket(new)
        if added is not None:
            delta[added] += 1
    return {b: n for b, n in delta.items() if n}


async def write_changes(conn: Any, delta: Mapping[Bucket, int]) -> None:
    """Inside a batch's transaction, after its calls: add ``delta`` to the minutes, in key
    order (one statement)."""
    if not delta:
        return
    buckets = sorted(delta)
    await conn.execute(
        _ADD,
        [b[0] for b in buckets],
        [b[1] for b in buckets],
        [b[2] for b in buckets],
        [b[3] for b in buckets],
        [delta[b] for b in buckets],
    )


def page_and_count(cc_id: int, vdn: int, q: RecordQuery) -> tuple[str, list[Any]]:
    """One statement (one snapshot, one round trip) and its parameters: rows of the
    count of every record of the query, then the columns of one record of the page
    (``NULL``, one row, when the page is empty)."""
    page, count, params = call_sql.records(_PG, cc_id, vdn, q)
    params = [*params, q.limit, q.offset]
    if not (q.caller_no or q.callee_no):
        count, extra = _by_minute(q, len(params))
        params += extra
    statement = (
        f"SELECT t.n, p.* FROM ({count}) AS t(n) LEFT JOIN ({page}) AS p ON true"
        ' ORDER BY p.arrived_at, p.call_id COLLATE "C"'
    )
    return statement, params


def _by_minute(q: RecordQuery, n: int) -> tuple[str, list[Any]]:
    """The count of the records from ``q.begin`` to ``q.end``: the whole minutes' sums
    and the records of the edges before and after them (parameters ``$1`` to ``$3``: the
    tenant and direction; ``$n+1`` on: the edges and minutes)."""
    first = -(-q.begin // MINUTE_MS)  # the first minute that starts in the range
    last = (q.end + 1) // MINUTE_MS - 1  # the last minute that ends in it
    if first <= last:
        low, high = (q.begin, first * MINUTE_MS - 1), ((last + 1) * MINUTE_MS, q.end)
    else:  # under two minutes: the index alone, and no minute
        low, high = (q.begin, q.end), (q.end + 1, q.end)
    m = [f"${n + i}" for i in range(1, 7)]
    index = (
        "SELECT count(*) FROM call WHERE cc_id = $1 AND vdn = $2 AND ended_at IS NOT NULL"
        " AND call_in = $3 AND arrived_at BETWEEN {} AND {}"
    )
    count = (
        "SELECT coalesce((SELECT sum(records) FROM call_record_minute WHERE cc_id = $1"
        f" AND vdn = $2 AND call_in = $3 AND minute BETWEEN {m[0]} AND {m[1]}), 0)"
        f" + ({index.format(m[2], m[3])}) + ({index.format(m[4], m[5])})"
    )
    return count, [first, last, *low, *high]
