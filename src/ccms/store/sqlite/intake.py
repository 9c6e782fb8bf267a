"""The SQLite writer's agent-event path: the statements a batch runs, shaped for few CPU
instructions per event (``benchmarks/intake_instructions.py`` counts them).

Each function runs inside the batch's write transaction, on the writer thread:

- :func:`claim_ids`: the batch's event ids claimed in one ``INSERT ... SELECT FROM
  json_each(?) ON CONFLICT DO NOTHING RETURNING`` per call center and VDN (one B-tree
  search per id instead of a read and an insert), answering the ids applied before;
- :func:`write_history`: the history rows, without the columns that are NULL in most
  (reason, source, raw state), else bound straight from the domain's
  :class:`~ccms.domain.agent.StatusChange` tuples (the column list in their field order);
- :func:`write_log`: the change log, each record encoded once (the writer keeps the JSON
  of the records it holds: the ``cur`` of an agent's change is the ``prev`` of its next);
- :func:`write_agents`: the changed agents, an ``UPDATE`` by key of the columns that
  changed for an agent the batch loaded (one search instead of an upsert's two, and
  fewer values bound) and an ``INSERT`` for a new one.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, cast

import orjson

from ccms.domain.agent import AgentKey, AgentRecord, StatusChange
from ccms.domain.batch import AgentUpdate, EventKey
from ccms.domain.changes import AgentChange
from ccms.store.changes import encode_record

# Python's sqlite3 (before 3.12) binds a parameter that is not exactly an int, float, str
# or bytearray (None, a bool) only after asking its PrepareProtocol type for ``__adapt__``,
# which raises and clears an AttributeError each time: some 2,000 instructions, a dozen
# times per agent event (the nullable columns). An adapter found in the registry answers
# first. Both give SQLite the value it got before (NULL; 0 or 1), for every connection.
_none = cast("Callable[[None], None]", {}.get)  # a C call that answers None for None
sqlite3.register_adapter(type(None), _none)
sqlite3.register_adapter(bool, int)
CLAIMS = sqlite3.sqlite_version_info >= (3, 35)  # RETURNING: claim_ids can be used
# The ids of one tenant not held yet, claimed; RETURNING answers those inserted (``WHERE
# true``: an upsert after a SELECT needs a WHERE clause to parse).
_CLAIM = (
    "INSERT INTO applied_event (cc_id, vdn, event_id, applied_at)"
    " SELECT ?, ?, value, ? FROM json_each(?) WHERE true"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)
INSERT_HISTORY = (
    "INSERT INTO status_history (event_id, cc_id, vdn, work_no, at, cti_status, reason, applied,"
    " source, raw_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_SHORT_HISTORY = (
    "INSERT INTO status_history (event_id, cc_id, vdn, work_no, at, cti_status, applied)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_CHANGE = (
    "INSERT INTO agent_change (seq, logged_at, at, event_id, cc_id, vdn, work_no, prev, cur)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_FIELDS = AgentRecord._fields[3:]  # the columns after the key, named as the fields
_INSERT_AGENT = (
    f"INSERT INTO agent (cc_id, vdn, work_no, {', '.join(_FIELDS)}, change_seq)"
    f" VALUES ({', '.join('?' * (len(_FIELDS) + 4))})"
)


def claim_ids(conn: sqlite3.Connection, events: Iterable[Any], now_ms: int) -> set[EventKey]:
    """Insert the event ids of ``events`` (agent or call events) not held yet, with
    ``applied_at`` ``now_ms``; the keys of those held before (duplicates of earlier
    batches). An id twice in the batch is inserted once and is not among them."""
    groups: dict[tuple[int, int], dict[str, None]] = {}
    for event in events:
        groups.setdefault((event.cc_id, event.vdn), {})[event.event_id] = None
    held: set[EventKey] = set()
    for (cc_id, vdn), ids in groups.items():
        rows = conn.execute(_CLAIM, (cc_id, vdn, now_ms, orjson.dumps(list(ids)).decode()))
        claimed = {row[0] for row in rows}
        if len(claimed) < len(ids):
            held.update(EventKey(cc_id, vdn, i) for i in ids if i not in claimed)
    return held


def write_history(conn: sqlite3.Connection, history: Sequence[StatusChange]) -> None:
    """The history rows, in arrival order (their ids break ties of time): those without a
    reason, source or raw state (most) as seven values, without a NULL to bind; the others
    as their whole tuple. One statement per run of rows of one kind."""
    run: list[tuple[Any, ...]] = []
    short = True
    for h in history:
        if h[6] is None and h[8] is None and h[9] is None:
            if not short:
                conn.executemany(INSERT_HISTORY, run)
                run, short = [], True
            run.append((h[0], h[1], h[2], h[3], h[4], h[5], 1 if h[7] else 0))
        else:
            if short:
                conn.executemany(_INSERT_SHORT_HISTORY, run)
                run, short = [], False
            run.append(h)
    conn.executemany(_INSERT_SHORT_HISTORY if short else INSERT_HISTORY, run)


def _json_list(values: Any) -> str:
    return orjson.dumps(values).decode() if values else "[]"


# A record and its change-log JSON, by agent.
Texts = dict[AgentKey, tuple[AgentRecord, str]]


def write_log(
    conn: sqlite3.Connection,
    log: Sequence[AgentChange],
    base: int,
    now_ms: int,
    held: Mapping[AgentKey, AgentRecord],
    texts: Mapping[AgentKey, str],
) -> Texts:
    """Write a batch's changes, numbered ``base + change.seq``, in its transaction, each
    record encoded once: a ``prev`` that is the record the writer holds takes its text
    from ``texts`` (the JSON of the records in ``held`` that a batch logged), one that a
    change of the same batch logged takes that one's. Answers the last ``cur`` logged per
    agent and its text."""
    rows = []
    logged: Texts = {}
    for change in log:
        prev, cur = change.prev, change.cur
        key: Any = (cur[0], cur[1], cur[2])  # equal to its AgentKey, built faster
        prev_text = None
        if prev is not None:
            before = logged.get(key)
            if before is not None and before[0] is prev:
                prev_text = before[1]
            elif prev is held.get(key):
                prev_text = texts.get(key)
            if prev_text is None:
                prev_text = encode_record(prev)
        cur_text = encode_record(cur)
        rows.append(
            (base + change.seq, now_ms, change.at, change.event_id, cur.cc_id, cur.vdn,
             cur.work_no, prev_text, cur_text)
        )  # fmt: skip
        logged[key] = (cur, cur_text)
    conn.executemany(_INSERT_CHANGE, rows)
    return logged


def write_agents(
    conn: sqlite3.Connection,
    changes: Mapping[AgentKey, AgentUpdate],
    last_changes: Mapping[AgentKey, int],
    base: int,
) -> None:
    """The agents a batch changed: each with the number of its last change (``base`` plus
    its entry in ``last_changes``), or keeping its number when its state did not change.
    A new agent is inserted whole; a known one is updated by key in the columns that
    differ from the record the batch loaded (which is the row: the writer's records are
    used only while no other connection wrote), one statement per set of columns."""
    inserted = []
    updates: dict[tuple[tuple[int, ...], bool], list[list[Any]]] = {}
    for key, (before, r) in changes.items():
        number = last_changes.get(key)
        if before is None:
            fields = (*r[3:18], _json_list(r[18]), r[19], _json_list(r[20]), r[21])
            inserted.append((*r[:3], *fields, 0 if number is None else base + number))
            continue
        changed = tuple([i for i in _FIELD_INDICES if r[i] != before[i]])
        values = [_json_list(r[i]) if i in _JSON_COLUMNS else r[i] for i in changed]
        if number is not None:
            values.append(base + number)
        values += r[:3]
        updates.setdefault((changed, number is not None), []).append(values)
    for (changed, numbered), rows in updates.items():
        conn.executemany(_update(changed, numbered), rows)
    if inserted:
        conn.executemany(_INSERT_AGENT, inserted)


_FIELD_INDICES = range(3, 3 + len(_FIELDS))  # the record's fields after its key
_JSON_COLUMNS = frozenset({AgentRecord._fields.index("skills"), AgentRecord._fields.index("calls")})


@functools.lru_cache(maxsize=256)
def _update(changed: tuple[int, ...], numbered: bool) -> str:
    """``UPDATE agent`` of the record fields ``changed`` (their indices) and, when
    ``numbered``, ``change_seq``, by key."""
    columns = [f"{AgentRecord._fields[i]} = ?" for i in changed]
    if numbered:
        columns.append("change_seq = ?")
    return f"UPDATE agent SET {', '.join(columns)} WHERE cc_id = ? AND vdn = ? AND work_no = ?"
