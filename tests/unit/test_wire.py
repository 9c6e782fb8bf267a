"""The wire contract: pure, and the one list of paths the server and the client share."""

from __future__ import annotations

import ast
import inspect

import pytest

from ccms import wire
from ccms.client import calls
from ccms.http.routes import route_table
from ccms.settings import load_settings

pytestmark = pytest.mark.unit

PREFIXES = {wire.COMPAT, wire.OPENAPI, wire.OPENAPI_V2, wire.NATIVE}


def wire_paths() -> set[str]:
    values = [getattr(wire, name) for name in wire.__all__]
    return {v for v in values if isinstance(v, str) and v.startswith("/")} - PREFIXES


def test_wire_imports_nothing_of_ccms_but_the_domain_statuses() -> None:
    tree = ast.parse(inspect.getsource(wire))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                 for alias in node.names}  # fmt: skip
    assert imported == {"__future__", "ccms.domain.status"}


def test_every_route_of_the_server_is_a_wire_path_and_back() -> None:
    served = {route.path for route in route_table(load_settings({}))}
    assert served == wire_paths()


def test_the_client_calls_the_wire_paths() -> None:
    used = {node.id for node in ast.walk(ast.parse(inspect.getsource(calls)))
            if isinstance(node, ast.Name) and isinstance(getattr(wire, node.id, None), str)}  # fmt: skip
    client_paths = {getattr(wire, name) for name in used} - PREFIXES
    browser = {wire.WALLBOARD, wire.WALLBOARD_FILES}  # a browser's page, not an API call
    assert client_paths == wire_paths() - {wire.HEALTHZ, wire.METRICS, wire.OPENAPI_DOCUMENT,
                                           *browser}  # fmt: skip
    assert calls.skill_members(1, 1, [1]).path == wire.SKILL_MEMBERS
    assert calls.skill_members(1, 1, [1]).name == "realindex/agent/agentsinskill"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        (wire.AGENT_BY_WORK_NO, "agent/agentbyworkno"),
        (wire.PING, "ping"),
        (wire.EVENTS, "events"),
        (wire.HEALTHZ, "/healthz"),
        ("/elsewhere/x", "/elsewhere/x"),
    ],
)
def test_route_names(path: str, name: str) -> None:
    assert wire.route_name(path) == name


def test_every_public_name_is_listed() -> None:
    public = {name for name in vars(wire) if not name.startswith("_") and name != "annotations"}
    assert public == set(wire.__all__)
