"""The SQL of the agent list (``Store.list_agents``), for both backends.

A :class:`~ccms.domain.listing.ListQuery` becomes two statements read from one snapshot:
the page (the agents matching the filter after the cursor, in order, at most ``limit + 1``
so that the caller knows whether more follow) and the counts (the CTI statuses of every
agent matching the filter, the cursor aside). The two dialects differ only in
placeholders, the skill-queue condition (SQLite's ``agent_skill`` index, PostgreSQL's
``skills`` array), how a name is folded for a search and the collation of a name sort:
byte order of UTF-8 on both, which is the code-point order Python compares strings by.

Every value comes in as a parameter, except the CTI statuses, which are validated
integers written into the statement so that the planner sees them: with one status the
index ``agent_list`` (``cc_id, vdn, cti_status, since, work_no``) hands out the rows in
the order of a sort by time in state, and the page is read without sorting.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import orjson

from ccms.domain.listing import ListQuery, Order, SortKey
from ccms.domain.status import STATUS_BY_CTI

SINCE = "coalesce(status_at, created_at)"  # the start of the current state (the index's)
STATUS = (
    "CASE cti_status "
    + " ".join(f"WHEN {cti} THEN {status}" for cti, status in enumerate(STATUS_BY_CTI))
    + " END"
)
_UPPER, _LOWER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"


class Dialect(enum.Enum):
    SQLITE = "sqlite"
    POSTGRES = "postgres"


@dataclass
class _Params:
    dialect: Dialect
    values: list[Any] = field(default_factory=list)

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return "?" if self.dialect is Dialect.SQLITE else f"${len(self.values)}"


@dataclass(frozen=True)
class Statements:
    page: str
    page_params: list[Any]
    counts: str
    counts_params: list[Any]


def _name(dialect: Dialect) -> str:
    if dialect is Dialect.SQLITE:
        return "coalesce(name, '')"  # BINARY: memcmp of UTF-8
    return "(coalesce(name, '') COLLATE \"C\")"


def _key(order: Order, dialect: Dialect) -> str:
    if order.key is SortKey.SECONDS_IN_STATE:
        return SINCE
    if order.key is SortKey.NAME:
        return _name(dialect)
    if order.key is SortKey.STATUS:
        return STATUS
    return "work_no"


def _where(cc_id: int, vdn: int, query: ListQuery, p: _Params) -> list[str]:
    f = query.filter
    dialect = p.dialect
    codes = ", ".join(str(int(c)) for c in sorted(f.cti_statuses))
    conditions = [f"cc_id = {p(cc_id)}", f"vdn = {p(vdn)}"]
    if not f.cti_statuses:
        conditions.append("1 = 0")  # no status asked for is listed (IN () is not SQL)
    elif len(f.cti_statuses) == 1:
        conditions.append(f"cti_status = {codes}")
    else:
        conditions.append(f"cti_status IN ({codes})")
    if f.skills is not None:
        skills = sorted(f.skills)
        if dialect is Dialect.SQLITE:
            tenant = f"cc_id = {p(cc_id)} AND vdn = {p(vdn)}"  # "?" values go in text order
            members = f"SELECT value FROM json_each({p(orjson.dumps(skills).decode())})"
            conditions.append(
                f"work_no IN (SELECT work_no FROM agent_skill WHERE {tenant}"
                f" AND skill_id IN ({members}))"
            )
        else:
            conditions.append(f"skills && {p(skills)}::integer[]")
    if f.started_by is not None:
        conditions.append(f"{SINCE} <= {p(f.started_by)}")
    if f.search is not None:
        needle = p(f.search)
        if dialect is Dialect.SQLITE:
            name = f"instr(lower(name), {needle}) > 0"  # lower(): ASCII letters only
            number = "CAST(work_no AS TEXT)"
        else:
            name = f"strpos(translate(name, '{_UPPER}', '{_LOWER}'), {needle}) > 0"
            number = "work_no::text"
        if f.search.isascii() and f.search.isdigit():
            conditions.append(f"({name} OR {number} LIKE {p(f.search + '%')})")
        else:
            conditions.append(name)
    return conditions


def _after(query: ListQuery, p: _Params) -> str | None:
    after = query.after
    if after is None:
        return None
    order = query.order
    if order.key is SortKey.WORK_NO:
        return f"work_no {'<' if order.descending else '>'} {p(after.work_no)}"
    key = _key(order, p.dialect)
    # The first condition alone lets the planner seek in the index; the rest is exact.
    # (Each "?" of SQLite takes a value of its own, hence the value given three times.)
    if not order.column_descending:
        seek = f"{key} >= {p(after.value)}"
        return f"{seek} AND ({key}, work_no) > ({p(after.value)}, {p(after.work_no)})"
    seek = f"{key} <= {p(after.value)}"
    before, same = p(after.value), p(after.value)
    return f"{seek} AND ({key} < {before} OR ({key} = {same} AND work_no > {p(after.work_no)}))"


def _order_by(order: Order, dialect: Dialect) -> str:
    if order.key is SortKey.WORK_NO:
        return f"work_no {'DESC' if order.descending else 'ASC'}"
    direction = "DESC" if order.column_descending else "ASC"
    return f"{_key(order, dialect)} {direction}, work_no ASC"


def statements(
    dialect: Dialect, columns: str, cc_id: int, vdn: int, query: ListQuery
) -> Statements:
    """The page and the counts of ``query`` in ``dialect``, selecting ``columns``. The
    page holds up to ``query.limit + 1`` agents (all with ``limit`` ``None``)."""
    counted = _Params(dialect)
    where = " AND ".join(_where(cc_id, vdn, query, counted))
    counts = f"SELECT cti_status, count(*) FROM agent WHERE {where} GROUP BY cti_status"
    paged = _Params(dialect)
    conditions = _where(cc_id, vdn, query, paged)
    after = _after(query, paged)
    if after is not None:
        conditions.append(after)
    page = (
        f"SELECT {columns} FROM agent WHERE {' AND '.join(conditions)}"
        f" ORDER BY {_order_by(query.order, dialect)}"
    )
    if query.limit is not None:
        page += f" LIMIT {paged(query.limit + 1)}"
    return Statements(page, paged.values, counts, counted.values)
