"""The agent list: which agents of a VDN a supervisor asks for, in which order, from where.

``POST /ccms/v1/agents/query`` (``docs/api.md``, "The agent list") filters a VDN's agents
and sorts them; a store reads a page of them (:class:`ListQuery` in,
:class:`ListedAgents` out). This module is the pure part every backend shares: the filter
and the order as values, and where an agent sits in the order (:func:`position_of`,
:func:`comes_after`), so that a page read in SQL and one cut in Python agree.

The order is total: each sort key is followed by the work number, ascending, so two
agents never tie. Paging is by keyset: a page starts after the :class:`Position` (the sort
value and the work number) of the last agent of the page before.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from ccms.domain.agent import AgentRecord, status_of
from ccms.domain.status import STATUS_BY_CTI, CtiStatus

SIGNED_IN_CTI = frozenset(int(c) for c in CtiStatus if c != CtiStatus.SIGNED_OUT)
ALL_CTI = frozenset(int(c) for c in CtiStatus)
# The agent statuses ccms produces (never 1 or 6): the keys of the counts.
LISTED_STATUSES = tuple(sorted(set(STATUS_BY_CTI)))


class SortKey(enum.Enum):
    """What the list is sorted by (the wire's names)."""

    SECONDS_IN_STATE = "secondsInState"
    WORK_NO = "workNo"
    NAME = "name"
    STATUS = "status"


@dataclass(frozen=True, slots=True)
class Order:
    """A sort key and its direction (``descending``: the wire's leading ``-``)."""

    key: SortKey = SortKey.SECONDS_IN_STATE
    descending: bool = True

    @property
    def wire(self) -> str:
        return ("-" if self.descending else "") + self.key.value

    @property
    def column_descending(self) -> bool:
        """Whether the stored value the key is read from is taken in descending order:
        seconds in state grow as the state's start (``since``) is older, so the longest
        in state first is the smallest ``since`` first."""
        if self.key is SortKey.SECONDS_IN_STATE:
            return not self.descending
        return self.descending


Value = int | str  # a sort value: since (ms), a work number, a name, a status


class Position(NamedTuple):
    """Where an agent sits in an order: its sort value and its work number."""

    value: Value
    work_no: int


@dataclass(frozen=True, slots=True)
class AgentFilter:
    """Which agents of a VDN are listed; every condition must hold.

    ``cti_statuses``: the CTI statuses listed (the wire's ``statuses`` and ``ctiStatuses``
    resolved together; signed-in ones when neither is given). ``skills``: the agent's
    skill queues include one of them (``None``: any). ``started_by``: the state began at
    or before this moment, in ms (``minSecondsInState`` at the paging's ``now``; ``None``:
    any). ``search``: a name that contains it, ASCII letters compared without case, or
    (digits only) a work number that starts with it (``None``: any).
    """

    cti_statuses: frozenset[int] = SIGNED_IN_CTI
    skills: frozenset[int] | None = None
    started_by: int | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class ListQuery:
    """A page of the list: the agents matching ``filter``, in ``order``, after ``after``
    (``None``: from the first), at most ``limit`` (``None``: all)."""

    filter: AgentFilter
    order: Order
    after: Position | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class ListedAgents:
    """A store's answer: the page, and the CTI statuses of every agent matching the filter
    (all pages, the cursor aside) counted, read together from one snapshot."""

    agents: list[AgentRecord]
    cti_counts: Mapping[int, int]


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def fold(text: str) -> str:
    """``text`` with ASCII letters in lower case, the others as they are: how a search
    compares names (both backends fold the same way)."""
    return text.translate(_ASCII_LOWER)


def position_of(record: AgentRecord, order: Order) -> Position:
    """The agent's place in ``order``."""
    key = order.key
    value: Value
    if key is SortKey.SECONDS_IN_STATE:
        value = record.state_start
    elif key is SortKey.NAME:
        value = record.name or ""
    elif key is SortKey.STATUS:
        value = status_of(record)
    else:
        value = record.work_no
    return Position(value, record.work_no)


def comes_after(position: Position, after: Position, order: Order) -> bool:
    """Whether an agent at ``position`` comes after one at ``after`` in ``order``."""
    if order.key is SortKey.WORK_NO:
        if order.descending:
            return position.work_no < after.work_no
        return position.work_no > after.work_no
    value, other = position.value, after.value
    if value == other:
        return position.work_no > after.work_no
    if order.column_descending:
        return value < other  # type: ignore[operator]
    return value > other  # type: ignore[operator]


def listed_cti_statuses(
    statuses: frozenset[int] | None, cti_statuses: frozenset[int] | None
) -> frozenset[int]:
    """The CTI statuses a list shows: those whose agent status is among ``statuses`` and
    that are among ``cti_statuses`` (``None``: no condition); signed-in ones when neither
    is given (a signed-out agent is listed only when asked for)."""
    if statuses is None and cti_statuses is None:
        return SIGNED_IN_CTI
    codes = ALL_CTI if cti_statuses is None else cti_statuses & ALL_CTI
    if statuses is not None:
        codes = frozenset(c for c in codes if STATUS_BY_CTI[c] in statuses)
    return codes


def status_counts(cti_counts: Mapping[int, int]) -> dict[int, int]:
    """Agents per agent status (every status ccms produces, 0 when none) from agents per
    CTI status."""
    counts = dict.fromkeys(LISTED_STATUSES, 0)
    for cti, n in cti_counts.items():
        counts[STATUS_BY_CTI[cti]] += n
    return counts
