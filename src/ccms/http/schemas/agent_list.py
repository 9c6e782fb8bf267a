"""The agent list on the wire (``POST /ccms/v1/agents/query``): the request, the cursor,
the answer (``docs/api.md``, "The agent list").

The cursor is opaque to clients: base64url (no padding) of the JSON array ``[version,
request hash, now, sort value, work number]``. ``now`` is the moment of the first page
(in ms): ``minSecondsInState`` and ``flagged`` are judged at that moment on every page,
so that the set of agents that do not change stays the same while a client pages. The
request hash is that of every field but ``limit`` and ``cursor``: a cursor given with
another filter or sort is refused (``0100002``) rather than read in a way it was not made
for.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from ccms.domain.agent import (
    CC_ID_RANGE,
    SKILL_ID_RANGE,
    VDN_RANGE,
    AgentRecord,
    as_int,
)
from ccms.domain.listing import (
    AgentFilter,
    ListQuery,
    Order,
    Position,
    SortKey,
    fold,
    listed_cti_statuses,
    position_of,
)
from ccms.errors import InvalidParameterError
from ccms.http.schemas.detail import agent_item
from ccms.http.schemas.fields import int_field, query_params

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
MAX_SKILLS = 1000
MAX_STATUSES = 100
MAX_SEARCH = 64
MAX_CURSOR = 512
MIN_SECONDS_RANGE = (0, 2**31 - 1)
STATUS_RANGE = (0, 8)  # the vendor's agent statuses (Table 5)
CTI_RANGE = (0, 10)
CURSOR_VERSION = 1
DEFAULT_SORT = Order(SortKey.SECONDS_IN_STATE, descending=True)
SORTS = {order.wire: order for key in SortKey for order in (Order(key, False), Order(key, True))}
_SORT_RULE = "sort must be one of " + ", ".join(SORTS)
_CURSOR_RULE = (
    "cursor is not a nextCursor of this request (same ccId, vdn, filters and sort):"
    " ask for the first page again, without cursor"
)


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A request, its fields checked; ``cursor`` still as sent."""

    cc_id: int
    vdn: int
    skills: frozenset[int] | None
    statuses: frozenset[int] | None
    cti_statuses: frozenset[int] | None
    min_seconds: int
    flagged: bool
    search: str | None
    order: Order
    limit: int
    cursor: str | None

    def digest(self) -> str:
        """The hash of what a cursor is bound to: every field but ``limit`` and ``cursor``."""
        fields = [
            self.cc_id, self.vdn, _sorted(self.skills), _sorted(self.statuses),
            _sorted(self.cti_statuses), self.min_seconds, self.flagged, self.search,
            self.order.wire,
        ]  # fmt: skip
        return hashlib.sha256(orjson.dumps(fields)).hexdigest()[:16]

    def query(self, now_ms: int, after: Position | None) -> ListQuery:
        """The store's query, ``minSecondsInState`` judged at ``now_ms``."""
        started_by = now_ms - self.min_seconds * 1000 if self.min_seconds else None
        search = None if self.search is None else fold(self.search)
        selection = AgentFilter(
            listed_cti_statuses(self.statuses, self.cti_statuses), self.skills, started_by, search
        )
        return ListQuery(selection, self.order, after, self.limit)


def _sorted(values: frozenset[int] | None) -> list[int] | None:
    return None if values is None else sorted(values)


def _codes(params: dict[str, Any], name: str, lo: int, hi: int, most: int) -> frozenset[int] | None:
    """An optional list of integers: absent, ``null`` or ``[]`` is no filter."""
    values = params.get(name)
    if values is None or values == []:
        return None
    if type(values) is list and len(values) <= most:
        numbers = [as_int(value) for value in values]
        if all(n is not None and lo <= n <= hi for n in numbers):
            return frozenset(n for n in numbers if n is not None)
    raise InvalidParameterError(
        f"{name} must be a list of at most {most} integers from {lo} to {hi}"
    )


def _optional_int(params: dict[str, Any], name: str, lo: int, hi: int, default: int) -> int:
    if params.get(name) is None:
        return default
    return int_field(params, name, lo, hi)


def _search(params: dict[str, Any]) -> str | None:
    value = params.get("search")
    if value is None:
        return None
    if type(value) is not str or len(value) > MAX_SEARCH or any(ord(c) < 32 for c in value):
        raise InvalidParameterError(
            f"search must be a string of at most {MAX_SEARCH} characters, without control"
            " characters"
        )
    return value.strip() or None


def list_request(body: dict[str, Any]) -> ListRequest:
    """The fields of a list request (either body shape); ``0100002`` naming the first
    field that breaks its rule."""
    params = query_params(body)
    cc_id = int_field(params, "ccId", *CC_ID_RANGE)
    vdn = int_field(params, "vdn", *VDN_RANGE)
    skills = _codes(params, "skills", *SKILL_ID_RANGE, MAX_SKILLS)
    statuses = _codes(params, "statuses", *STATUS_RANGE, MAX_STATUSES)
    cti_statuses = _codes(params, "ctiStatuses", *CTI_RANGE, MAX_STATUSES)
    min_seconds = _optional_int(params, "minSecondsInState", *MIN_SECONDS_RANGE, 0)
    flagged = params.get("flagged")
    if flagged is None:
        flagged = False
    elif type(flagged) is not bool:
        raise InvalidParameterError("flagged must be true or false")
    search = _search(params)
    sort = params.get("sort")
    order = DEFAULT_SORT
    if sort is not None:
        if type(sort) is not str or sort not in SORTS:
            raise InvalidParameterError(_SORT_RULE)
        order = SORTS[sort]
    limit = _optional_int(params, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT)
    cursor = params.get("cursor")
    if cursor is not None and (type(cursor) is not str or not 1 <= len(cursor) <= MAX_CURSOR):
        raise InvalidParameterError(
            "cursor must be the nextCursor of the page before (a string), or null"
        )
    return ListRequest(
        cc_id, vdn, skills, statuses, cti_statuses, min_seconds, flagged, search, order,
        limit, cursor,
    )  # fmt: skip


# -- the cursor ----------------------------------------------------------------------------


def encode_cursor(request: ListRequest, now_ms: int, last: AgentRecord) -> str:
    """The cursor of the page after the one that ended with ``last``."""
    value, work_no = position_of(last, request.order)
    payload = orjson.dumps([CURSOR_VERSION, request.digest(), now_ms, value, work_no])
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode("ascii")


def decode_cursor(request: ListRequest) -> tuple[int, Position]:
    """``(now, position)`` of the request's cursor; ``0100002`` when it is not a cursor of
    this request."""
    text = request.cursor or ""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        fields = orjson.loads(raw)
    except (binascii.Error, ValueError):
        raise InvalidParameterError(_CURSOR_RULE) from None
    if not (type(fields) is list and len(fields) == 5):
        raise InvalidParameterError(_CURSOR_RULE)
    version, digest, now_ms, value, work_no = fields
    if not (
        version == CURSOR_VERSION
        and digest == request.digest()
        and _whole(now_ms, 0)
        and _whole(work_no, 0)
        and (
            type(value) is str
            if request.order.key is SortKey.NAME
            else _whole(value, -_CURSOR_INT_MAX)
        )
    ):
        raise InvalidParameterError(_CURSOR_RULE)
    return now_ms, Position(value, work_no)


_CURSOR_INT_MAX = 2**53  # a cursor's numbers: times in ms, work numbers, statuses


def _whole(value: object, lowest: int) -> bool:
    """Whether ``value`` is an integer a cursor may hold (a forged one out of range is
    refused here rather than overflow a store's 64-bit integers)."""
    return type(value) is int and lowest <= value <= _CURSOR_INT_MAX


# -- the answer ----------------------------------------------------------------------------


# One agent of the list: the native agent item, as the agent-detail route gives it.
listed_agent = agent_item
