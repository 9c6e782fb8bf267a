"""The request rules every route shares: the body, its two shapes, integer fields.

The rules are those of ``DECISIONS.md``: both body shapes (``{"queryParam": {...}}`` and
flat), integers as JSON integers or strings of ASCII digits, the vendor's ranges. A list
field is a JSON array of 1 to N valid integers, and a failure names the field and the whole
rule (``agentIds must be a list of 1 to 6000 integers from 101 to 59999``).
"""

from __future__ import annotations

from typing import Any

import orjson

from ccms.domain.agent import CC_ID_RANGE, LARGE_WORK_NO_RANGE, VDN_RANGE, WORK_NO_RANGE, as_int
from ccms.errors import InvalidParameterError, MalformedRequestError

Tenant = tuple[int, int]


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object of a request body, or HTTP 400."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedRequestError("request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequestError("request body must be a JSON object")
    return value


def query_params(body: dict[str, Any]) -> dict[str, Any]:
    """The parameters: the ``queryParam`` object when that key is present, else the body."""
    if "queryParam" in body:
        params = body["queryParam"]
        if not isinstance(params, dict):
            raise InvalidParameterError("queryParam must be a JSON object")
        return params
    return body


def int_field(params: dict[str, Any], name: str, lo: int, hi: int) -> int:
    if name not in params:
        raise InvalidParameterError(f"{name} is required")
    value = as_int(params[name])
    if value is None or not lo <= value <= hi:
        raise InvalidParameterError(f"{name} must be an integer from {lo} to {hi}")
    return value


def work_no_field(params: dict[str, Any], name: str, large: bool) -> int:
    if not large:
        return int_field(params, name, *WORK_NO_RANGE)
    if name not in params:
        raise InvalidParameterError(f"{name} is required")
    value = as_int(params[name])
    lo, hi = WORK_NO_RANGE
    big_lo, big_hi = LARGE_WORK_NO_RANGE
    if value is None or not (lo <= value <= hi or big_lo <= value <= big_hi):
        raise InvalidParameterError(
            f"{name} must be an integer from {lo} to {hi} or from {big_lo} to {big_hi}"
        )
    return value


def work_no_ranges(large: bool) -> tuple[tuple[int, int], ...]:
    return (WORK_NO_RANGE, LARGE_WORK_NO_RANGE) if large else (WORK_NO_RANGE,)


def tenant(params: dict[str, Any]) -> Tenant:
    """``(ccId, vdn)``."""
    return int_field(params, "ccId", *CC_ID_RANGE), int_field(params, "vdn", *VDN_RANGE)


def _valid_ints(values: list[Any], ranges: tuple[tuple[int, int], ...]) -> list[int] | None:
    numbers: list[int] = []
    if all(type(value) is int for value in values):
        numbers = values
    else:
        for value in values:
            number = as_int(value)
            if number is None:
                return None
            numbers.append(number)
    if len(ranges) == 1:
        lo, hi = ranges[0]
        return numbers if lo <= min(numbers) and max(numbers) <= hi else None
    if all(any(lo <= n <= hi for lo, hi in ranges) for n in numbers):
        return numbers
    return None


def int_list_field(
    params: dict[str, Any], name: str, ranges: tuple[tuple[int, int], ...], max_len: int
) -> list[int]:
    """A JSON array of 1 to ``max_len`` integers, each within one of ``ranges``."""
    if name not in params:
        raise InvalidParameterError(f"{name} is required")
    values = params[name]
    if type(values) is list and 1 <= len(values) <= max_len:
        numbers = _valid_ints(values, ranges)
        if numbers is not None:
            return numbers
    spans = " or from ".join(f"{lo} to {hi}" for lo, hi in ranges)
    raise InvalidParameterError(f"{name} must be a list of 1 to {max_len} integers from {spans}")
