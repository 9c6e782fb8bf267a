"""The reads of the PostgreSQL store: agents, agent states for the monitoring views, history.

Each function takes an asyncpg connection (``PostgresStore`` runs it on a pooled one) and
sends one statement, which asyncpg prepares once per connection and reuses.

The monitoring routes list thousands of agents at a time, mostly for their status alone,
so those reads fetch the seven columns of an :class:`AgentState` instead of full records.
The skill-queue view filters a VDN's agents (a primary-key range) on ``skills && ids``: a
VDN holds at most tens of thousands of agents, and an index on ``skills`` would cost every
batch more than it would save the views.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ccms.domain.agent import (
    AgentDetail,
    AgentHistory,
    AgentRecord,
    AgentState,
    SkillMember,
    StatusChange,
)
from ccms.domain.listing import ListedAgents, ListQuery
from ccms.store import listing

AGENT_COLUMNS = (
    "cc_id, vdn, work_no, created_at, cti_status, status_at, status_event_at, prev_status,"
    " prev_duration_ms, login_at, reason, reason_at, name, name_at, phone_number, phone_at,"
    " media_type, media_at, skills, skills_at, calls, calls_at"
)
_SELECT_AGENT = f"SELECT {AGENT_COLUMNS} FROM agent WHERE cc_id = $1 AND vdn = $2 AND work_no = $3"
# A join on the unnested list, not "work_no = ANY(array)": the planner may filter a whole
# VDN row by row against the array (6,000 x 50,000 comparisons: half a second).
_SELECT_AGENTS = (
    f"SELECT {AGENT_COLUMNS} FROM agent"
    " WHERE cc_id = $1 AND vdn = $2 AND work_no IN (SELECT unnest($3::integer[]))"
    " ORDER BY work_no"
)
_SELECT_IN_SKILLS = (
    f"SELECT {AGENT_COLUMNS} FROM agent WHERE cc_id = $1 AND vdn = $2"
    " AND skills && $3::integer[] ORDER BY work_no"
)
_SELECT_MEMBERSHIPS = (
    "SELECT DISTINCT s.skill_id, a.work_no, a.cti_status FROM agent AS a,"
    " unnest(a.skills) AS s(skill_id) WHERE a.cc_id = $1 AND a.vdn = $2"
    " AND a.skills && $3::integer[] AND s.skill_id IN (SELECT unnest($3::integer[]))"
    " ORDER BY s.skill_id, a.work_no"
)
_STATE_COLUMNS = (
    "work_no, cti_status, coalesce(status_at, created_at), prev_status, prev_duration_ms,"
    " login_at, reason"
)
_SELECT_STATES = (
    f"SELECT {_STATE_COLUMNS} FROM agent"
    " WHERE cc_id = $1 AND vdn = $2 AND work_no IN (SELECT unnest($3::integer[]))"
    " ORDER BY work_no"
)
# The count and the page in one statement, so that both come from one snapshot.
_LIST_STATES = (
    "SELECT c.n, p.* FROM (SELECT count(*) AS n FROM agent WHERE {where}) AS c"
    f" LEFT JOIN LATERAL (SELECT {_STATE_COLUMNS} FROM agent WHERE {{where}}"
    " ORDER BY work_no LIMIT $3 OFFSET $4) AS p ON true ORDER BY p.work_no"
)
_LIST_ALL = _LIST_STATES.format(where="cc_id = $1 AND vdn = $2")
_LIST_IN_STATUS = _LIST_STATES.format(where="cc_id = $1 AND vdn = $2 AND cti_status = $5")
_HISTORY_COLUMNS = (
    "event_id, cc_id, vdn, work_no, at, cti_status, reason, applied, source, raw_state"
)
_HISTORY = (
    f"SELECT {_HISTORY_COLUMNS} FROM status_history"
    " WHERE cc_id = $1 AND vdn = $2 AND work_no = $3 ORDER BY at DESC, id DESC LIMIT $4"
)
# The newest status event applied: why ccms believes the current status.
_CAUSE = (
    f"SELECT {_HISTORY_COLUMNS} FROM status_history"
    " WHERE cc_id = $1 AND vdn = $2 AND work_no = $3 AND applied ORDER BY at DESC, id DESC LIMIT 1"
)


def record(row: Sequence[Any]) -> AgentRecord:
    """An agent row (``AGENT_COLUMNS``) as a record; arrays become tuples."""
    values = list(row)
    values[18] = tuple(values[18])
    values[20] = tuple(values[20])
    return AgentRecord(*values)


async def get_agent(conn: Any, cc_id: int, vdn: int, work_no: int) -> AgentRecord | None:
    row = await conn.fetchrow(_SELECT_AGENT, cc_id, vdn, work_no)
    return None if row is None else record(row)


_SELECT_DETAIL = (  # AgentDetail's columns
    "SELECT work_no, vdn, cti_status, coalesce(status_at, created_at), login_at, name,"
    " phone_number, media_type FROM agent WHERE cc_id = $1 AND vdn = $2 AND work_no = $3"
)


async def get_agent_detail(conn: Any, cc_id: int, vdn: int, work_no: int) -> AgentDetail | None:
    row = await conn.fetchrow(_SELECT_DETAIL, cc_id, vdn, work_no)
    return None if row is None else AgentDetail._make(row)


async def get_agents(conn: Any, cc_id: int, vdn: int, work_nos: Sequence[int]) -> list[AgentRecord]:
    return [record(r) for r in await conn.fetch(_SELECT_AGENTS, cc_id, vdn, list(work_nos))]


async def agents_in_skills(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int]
) -> list[AgentRecord]:
    return [record(r) for r in await conn.fetch(_SELECT_IN_SKILLS, cc_id, vdn, list(skill_ids))]


async def skill_memberships(
    conn: Any, cc_id: int, vdn: int, skill_ids: Sequence[int]
) -> list[SkillMember]:
    rows = await conn.fetch(_SELECT_MEMBERSHIPS, cc_id, vdn, list(skill_ids))
    return [SkillMember(*r) for r in rows]


async def agent_states(
    conn: Any, cc_id: int, vdn: int, work_nos: Sequence[int]
) -> list[AgentState]:
    rows = await conn.fetch(_SELECT_STATES, cc_id, vdn, list(work_nos))
    return [AgentState(*r) for r in rows]


async def list_agent_states(
    conn: Any, cc_id: int, vdn: int, offset: int, limit: int | None, cti_status: int | None
) -> tuple[int, list[AgentState]]:
    if cti_status is None:
        rows = await conn.fetch(_LIST_ALL, cc_id, vdn, limit, offset)
    else:
        rows = await conn.fetch(_LIST_IN_STATUS, cc_id, vdn, limit, offset, cti_status)
    count = int(rows[0][0]) if rows else 0
    return count, [AgentState(*r[1:]) for r in rows if r[1] is not None]


async def list_agents(conn: Any, cc_id: int, vdn: int, query: ListQuery) -> ListedAgents:
    """The agent list's page and counts, in one read-only snapshot (``REPEATABLE READ``)."""
    sql = listing.statements(listing.Dialect.POSTGRES, AGENT_COLUMNS, cc_id, vdn, query)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        counts = {int(r[0]): int(r[1]) for r in await conn.fetch(sql.counts, *sql.counts_params)}
        rows = await conn.fetch(sql.page, *sql.page_params)
    return ListedAgents([record(r) for r in rows], counts)


async def history(conn: Any, cc_id: int, vdn: int, work_no: int, limit: int) -> list[StatusChange]:
    rows = await conn.fetch(_HISTORY, cc_id, vdn, work_no, limit)
    return [StatusChange(*r) for r in rows]


async def agent_history(
    conn: Any, cc_id: int, vdn: int, work_no: int, limit: int
) -> AgentHistory | None:
    """The agent, its newest ``limit`` status events and the newest one applied, from one
    read transaction (a snapshot: a batch committing meanwhile is in none or all of them)."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        row = await conn.fetchrow(_SELECT_AGENT, cc_id, vdn, work_no)
        if row is None:
            return None
        history = [StatusChange(*r) for r in await conn.fetch(_HISTORY, cc_id, vdn, work_no, limit)]
        cause = next((h for h in history if h.applied), None)
        if cause is None:
            found = await conn.fetchrow(_CAUSE, cc_id, vdn, work_no)
            cause = None if found is None else StatusChange(*found)
    return AgentHistory(record(row), history, cause)
