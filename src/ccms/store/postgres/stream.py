"""The PostgreSQL side of the live stream: the change log, snapshots, view tokens.

The same design as SQLite's (:mod:`ccms.store.sqlite.stream`): ``agent_change`` has one
row per applied change, keyed by its number, written by the batch that makes the changes
in one ``INSERT ... SELECT FROM unnest(...)`` (one statement for the whole batch); the
newest number pruned is in ``change_window``. Every read is one statement, so what it
returns comes from one snapshot: a page of changes with the newest number and the
window's start, or a VDN's agents with the newest number. Pruning is one statement too,
so the rows dropped and the mark of the window's start commit together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.changes import AgentChange, ChangePage, Snapshot, ViewToken
from ccms.store.changes import decode_flag, decode_record, encode_record
from ccms.store.postgres.views import AGENT_COLUMNS, record

LOG_CHANGES = (
    "INSERT INTO agent_change (seq, logged_at, at, event_id, cc_id, vdn, work_no, prev, cur)"
    " SELECT s, $2, a, e, c, v, w, p, q FROM unnest($1::bigint[], $3::bigint[],"
    " $4::text[], $5::integer[], $6::integer[], $7::integer[], $8::text[], $9::text[])"
    " AS t(s, a, e, c, v, w, p, q)"
)
_READ = (
    "SELECT k.newest, k.pruned, c.seq, c.at, c.event_id, c.prev, c.cur, c.flag FROM"
    " (SELECT (SELECT seq FROM change_counter) AS newest,"
    " (SELECT pruned FROM change_window) AS pruned) AS k"
    " LEFT JOIN LATERAL (SELECT seq, at, event_id, prev, cur, flag FROM agent_change"
    " WHERE seq > $1 AND $1 >= k.pruned AND $1 <= k.newest{where}"
    " ORDER BY seq LIMIT $2) AS c ON true ORDER BY c.seq"
)
_READ_ALL = _READ.format(where="")
_READ_CC = _READ.format(where=" AND cc_id = $3")
_READ_VDN = _READ.format(where=" AND cc_id = $3 AND vdn = $4")
_READ_VDN_ANY_CC = _READ.format(where=" AND vdn = $3")
_SNAPSHOT = (
    "SELECT c.seq, a.* FROM change_counter AS c LEFT JOIN LATERAL"
    f" (SELECT {AGENT_COLUMNS} FROM agent WHERE cc_id = $1 AND vdn = $2) AS a ON true"
    " ORDER BY a.work_no"
)
# The first entry still inside the time window: the entries before it are those to drop
# (appended in number order with the time of their commit), so the scan costs what the
# deletion does. Numbers of transactions not committed yet are above the committed newest
# and never dropped.
PRUNE_CHANGES = (
    "WITH k AS (SELECT greatest(coalesce((SELECT seq FROM agent_change WHERE logged_at >= $1"
    " ORDER BY seq LIMIT 1), c.seq + 1), c.seq - $2 + 1) AS keep, w.pruned"
    " FROM change_counter AS c, change_window AS w),"
    " gone AS (DELETE FROM agent_change WHERE seq < (SELECT keep FROM k WHERE keep - 1 > pruned))"
    " UPDATE change_window SET pruned = k.keep - 1 FROM k WHERE k.keep - 1 > change_window.pruned"
)
_PUT_TOKEN = (
    "INSERT INTO view_token (token_hash, ak, cc_id, vdn, expires_at) VALUES ($1, $2, $3, $4, $5)"
    " ON CONFLICT (token_hash) DO UPDATE SET ak = excluded.ak, cc_id = excluded.cc_id,"
    " vdn = excluded.vdn, expires_at = excluded.expires_at"
)
_GET_TOKEN = (
    "SELECT token_hash, ak, cc_id, vdn, expires_at FROM view_token"
    " WHERE token_hash = $1 AND expires_at > $2"
)
PRUNE_TOKENS = "DELETE FROM view_token WHERE expires_at <= $1"


def log_arrays(log: Sequence[AgentChange], base: int, now_ms: int) -> tuple[Any, ...]:
    """The parameters of :data:`LOG_CHANGES` for a batch's changes, numbered
    ``base + change.seq``."""
    return (
        [base + c.seq for c in log],
        now_ms,
        [c.at for c in log],
        [c.event_id for c in log],
        [c.cur.cc_id for c in log],
        [c.cur.vdn for c in log],
        [c.cur.work_no for c in log],
        [None if c.prev is None else encode_record(c.prev) for c in log],
        [encode_record(c.cur) for c in log],
    )


async def read_changes(
    conn: Any, since: int, limit: int, cc_id: int | None, vdn: int | None
) -> ChangePage:
    limit = max(0, limit)
    if cc_id is not None and vdn is not None:
        rows = await conn.fetch(_READ_VDN, since, limit, cc_id, vdn)
    elif cc_id is not None:
        rows = await conn.fetch(_READ_CC, since, limit, cc_id)
    elif vdn is not None:
        rows = await conn.fetch(_READ_VDN_ANY_CC, since, limit, vdn)
    else:
        rows = await conn.fetch(_READ_ALL, since, limit)
    newest, pruned = int(rows[0][0]), int(rows[0][1])
    changes = [
        AgentChange(r[2], r[3], r[4], None if r[5] is None else decode_record(r[5]),
                    decode_record(r[6]), decode_flag(r[7]))
        for r in rows if r[2] is not None
    ]  # fmt: skip
    return ChangePage(changes, newest, since < pruned or since > newest)


async def snapshot(conn: Any, cc_id: int, vdn: int) -> Snapshot:
    rows = await conn.fetch(_SNAPSHOT, cc_id, vdn)
    return Snapshot(int(rows[0][0]), [record(r[1:]) for r in rows if r[1] is not None])


async def put_token(conn: Any, token: ViewToken, now_ms: int) -> None:
    await conn.execute(_PUT_TOKEN, *token)
    await conn.execute(PRUNE_TOKENS, now_ms)


async def get_token(conn: Any, token_hash: str, now_ms: int) -> ViewToken | None:
    row = await conn.fetchrow(_GET_TOKEN, token_hash, now_ms)
    return None if row is None else ViewToken(*row)
