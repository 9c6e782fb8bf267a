"""Every envelope ccms answers with, and which route answers with which.

The CC-CMS envelope is ``result``, ``resultCode`` and ``resultDesc`` (``docs/api.md``, "The
envelope"); some vendor pages document a variant, which ccms answers as a superset of the
envelope so that either kind of client reads it.

Which route answers with which (paths under ``/rest/cmsapp/v1/openapi/`` but the last):

| route                                                     | success            | failure        |
|-----------------------------------------------------------|--------------------|----------------|
| every route not below (``ping``, ``events``, ``/healthz``) | success            | failure        |
| agentgroup/agentbyworkno, agentgroup/agentbyconfigedskill | legacy_success     | failure        |
| vdn/totalagentabstractex3, vdn/totalagentdynamicinfo      | success_with_count | failure        |
| vdn/queryAgentByStatus                                    | vendor_success     | vendor_failure |
| vdn/querycalls (v1 and ``/rest/cmsapp/v2/openapi/...``)    | plain_success      | failure        |
| /metrics                                                  | Prometheus text    | failure        |

A route names its failure envelope by :class:`Family` (``Route.envelope``); its handler
builds its success answer with the function of the table.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Any

import orjson

from ccms.errors import CCMSError
from ccms.wire import SUCCESS

JSON_TYPE = b"application/json;charset=UTF-8"


class Family(enum.Enum):
    """How a route's failures are rendered."""

    STANDARD = "standard"  # the one failure envelope
    VENDOR = "vendor"  # plus the vendor's returnCode/description (vdn/queryAgentByStatus)


# -- success -------------------------------------------------------------------------------


def success(data: Any) -> bytes:
    """The success envelope: the data in ``resultDesc`` and, for older clients, in
    ``resultDatas``."""
    return orjson.dumps(
        {"result": "0", "resultCode": SUCCESS, "resultDatas": data, "resultDesc": data}
    )


def plain_success(data: Any) -> bytes:
    """The vendor's envelope without the fields kept for older clients: ``resultCode`` and
    ``resultDesc`` only (``vdn/querycalls`` v1 and v2)."""
    return orjson.dumps({"resultCode": SUCCESS, "resultDesc": data})


def legacy_success(data: Any) -> bytes:
    """The success envelope of the vendor's legacy routes: ``result`` and ``resultDatas``."""
    return orjson.dumps({"result": "0", "resultDatas": data})


def success_with_count(data: Any, count: int) -> bytes:
    """The success envelope with the vendor's top-level ``count`` (VDN lists)."""
    return orjson.dumps(
        {
            "result": "0",
            "resultCode": SUCCESS,
            "resultDatas": data,
            "resultDesc": data,
            "count": count,
        }
    )


def vendor_success(data: Any) -> bytes:
    """``vdn/queryAgentByStatus``: the vendor's ``returnCode``/``description``/``data``
    shape, plus the ccms envelope's fields, so either kind of client reads it."""
    return orjson.dumps(
        {
            "returnCode": "0",
            "description": "success",
            "data": data,
            "result": "0",
            "resultCode": SUCCESS,
            "resultDatas": data,
            "resultDesc": data,
        }
    )


# -- failure -------------------------------------------------------------------------------


def failure(error: CCMSError) -> bytes:
    """The one failure envelope: the code twice, the message in ``resultDesc``."""
    code = error.result_code
    return orjson.dumps({"result": code, "resultCode": code, "resultDesc": error.message})


def vendor_failure(error: CCMSError) -> bytes:
    """A failure of ``vdn/queryAgentByStatus``: the one failure envelope plus the vendor's
    ``returnCode`` and ``description``."""
    code = error.result_code
    return orjson.dumps(
        {
            "returnCode": code,
            "description": error.message,
            "result": code,
            "resultCode": code,
            "resultDesc": error.message,
        }
    )


FAILURES: dict[Family, Callable[[CCMSError], bytes]] = {
    Family.STANDARD: failure,
    Family.VENDOR: vendor_failure,
}
