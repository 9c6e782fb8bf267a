"""The adapter's TOML file (``ccms adapter ami --config ami.toml``).

Every key is in :data:`KEYS` with its default and help (``docs/adapters/asterisk.md``
lists them all, and a test fails when one is missing there). An unknown key is refused
with its line and the key meant (``ami.toml line 4: unknown key 'usename' in [ami] (did
you mean 'username'?)``); so is a placeholder secret. Relative paths are relative to the
file's folder. The file holds two secrets: like the credentials file of ``ccms serve``, it
is refused when others may read it.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ccms.domain.agent import CC_ID_RANGE, REASON_RANGE, SKILL_ID_RANGE, VDN_RANGE, AgentKey
from ccms.feeds.asterisk.identity import FIELDS, Directory, Pattern, valid_agent_id
from ccms.feeds.asterisk.state import PauseRule, QueueRule, Rules
from ccms.settings import SettingsError
from ccms.tomlkeys import key_line, unknown_key

# section -> key -> (default, help); None as a default: required
KEYS: dict[str, dict[str, tuple[object, str]]] = {
    "ami": {
        "host": ("127.0.0.1", "Asterisk's manager address"),
        "port": (None, "its port (default 5038, 5039 with tls)"),
        "username": (None, "the manager.conf user"),
        "secret": (None, "its secret"),
        "tls": (False, "connect with TLS"),
        "ca_bundle": ("", "PEM file of the CA to trust for TLS (default: the system's)"),
        "tls_verify": (True, "check Asterisk's TLS certificate (false: tests only)"),
        "events": ("system,agent", "the event classes asked for at login (Events:)"),
        "connect_timeout_s": (5.0, "seconds to connect, greet and log in"),
        "ping_interval_s": (10.0, "seconds between two Pings"),
        "ping_timeout_s": (5.0, "seconds a Ping may take before the connection is dropped"),
        "reconnect_min_s": (1.0, "first wait before reconnecting"),
        "reconnect_max_s": (30.0, "longest wait between reconnections (jittered)"),
        "resync_interval_s": (300.0, "seconds between two QueueStatus reconciliations"),
    },
    "ccms": {
        "url": (None, "the ccms server, http(s)://host:port"),
        "ak": (None, "an access key with the ingest role"),
        "sk": (None, "its secret key"),
        "ca_bundle": ("", "PEM file of the CA to trust for an https:// url"),
        "timeout_s": (10.0, "seconds for each request"),
        "batch": (500, "most events a request"),
        "large_work_numbers": (False, "agent ids 70000..999999 (the server must allow them)"),
    },
    "adapter": {
        "listen": ("127.0.0.1:28091", "host:port of /healthz and /metrics ('' for none)"),
        "source": ("asterisk-ami", "the intake's source field of every event"),
        "send_names": (True, "send MemberName as the agent's name"),
        "static_phone_gone": ("busy", "a static member's phone gone: busy (7/5) or signed_out"),
        "pause_status": (7, "ctiStatus of a pause whose reason is not in [pause_reasons]"),
        "log_level": ("info", "debug, info, warning or error"),
        "calls": (True, "send call events for the queues that name (or imply) a VDN"),
        "call_settle_s": (1.0, "seconds a call's end waits for an answer, a transfer or its cause"),
    },
    "spool": {
        "dir": ("ami-spool", "folder of the on-disk spool (events not yet acknowledged)"),
        "max_mb": (256, "most megabytes of undelivered events kept on disk"),
    },
}
IDENTITY_KEYS = frozenset({"match", "ccId", "vdn", "agentId", "on"})
AGENT_KEYS = frozenset({"ccId", "vdn", "agentId"})
QUEUE_KEYS = frozenset({"skill", "wrapup_s", "ccId", "vdn"})
PAUSE_KEYS = frozenset({"ctiStatus", "reason"})
TOP = frozenset({*KEYS, "identity", "agents", "queues", "pause_reasons"})
_PLACEHOLDER = re.compile(r"^(\.\.\.|x+|changeme|change-me|secret|password|<.*>)$", re.I)


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int
    username: str
    secret: str
    tls: bool
    ca_bundle: str
    tls_verify: bool
    events: str
    connect_timeout_s: float
    ping_interval_s: float
    ping_timeout_s: float
    reconnect_min_s: float
    reconnect_max_s: float
    resync_interval_s: float

    def __repr__(self) -> str:
        return f"AmiConfig({self.username}@{self.host}:{self.port}, tls={self.tls})"


@dataclass(frozen=True)
class CcmsConfig:
    url: str
    ak: str
    sk: str
    ca_bundle: str
    timeout_s: float
    batch: int
    large_work_numbers: bool

    def __repr__(self) -> str:
        return f"CcmsConfig({self.ak}@{self.url})"


@dataclass(frozen=True)
class AdapterConfig:
    ami: AmiConfig
    ccms: CcmsConfig
    listen: str
    source: str
    send_names: bool
    log_level: str
    spool_dir: Path
    spool_max_bytes: int
    rules: Rules
    table: Mapping[str, AgentKey]
    patterns: tuple[Pattern, ...]

    def directory(self) -> Directory:
        return Directory(dict(self.table), self.patterns, self.ccms.large_work_numbers)


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def fail(self, message: str, key: str | None = None, table: str | None = None) -> SettingsError:
        line = key_line(self.text, key, table) if key else None
        where = f"{self.source} line {line}" if line else self.source
        return SettingsError(f"{where}: {message}")

    def section(self, data: Mapping[str, Any], name: str) -> dict[str, Any]:
        raw = data.get(name, {})
        if not isinstance(raw, dict):
            raise self.fail(f"[{name}] must be a table", name)
        known = KEYS[name]
        for key in raw:
            if key not in known:
                line = key_line(self.text, key, name)
                raise SettingsError(unknown_key(key, known, self.source, line, f"[{name}]"))
        values: dict[str, Any] = {}
        for key, (default, _) in known.items():
            value = raw.get(key, default)
            if value is None and not (name == "ami" and key == "port"):
                raise self.fail(f"[{name}] needs '{key}'", name)
            if default is not None and value is not None:
                value = self._typed(name, key, value, default)
            values[key] = value
        return values

    def _typed(self, section: str, key: str, value: Any, default: object) -> Any:
        expected: type | tuple[type, ...] = type(default)
        if isinstance(default, float):
            expected = (int, float)
        if isinstance(value, bool) and not isinstance(default, bool):
            expected = ()
        if not isinstance(value, expected):
            kind = {bool: "true or false", str: "a string", int: "an integer"}.get(
                type(default), "a number"
            )
            raise self.fail(f"[{section}] {key} must be {kind}", key, section)
        if isinstance(default, float) and isinstance(value, int | float):
            value = float(value)
            if value < 0 or (key.endswith("interval_s") and value <= 0):
                raise self.fail(f"[{section}] {key} must be positive", key, section)
        return value


def _int_in(value: object, lo: int, hi: int) -> int | None:
    if type(value) is int and lo <= value <= hi:
        return value
    return None


def parse_config(text: str, source: str = "ami.toml", base: Path | None = None) -> AdapterConfig:
    """The adapter's configuration from the text of its file, or a :class:`SettingsError`."""
    reader = _Reader(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML: {exc}") from None
    for key in data:
        if key not in TOP:
            raise SettingsError(unknown_key(key, TOP, source, key_line(text, key), noun="section"))
    base = base or Path.cwd()
    ami = reader.section(data, "ami")
    ccms = reader.section(data, "ccms")
    adapter = reader.section(data, "adapter")
    spool = reader.section(data, "spool")
    for section, key in (("ami", "secret"), ("ccms", "sk")):
        secret = (ami if section == "ami" else ccms)[key]
        if not isinstance(secret, str) or not secret or _PLACEHOLDER.match(secret.strip()):
            raise reader.fail(f"[{section}] {key} is a placeholder: write the real secret", key)
    for section, key in (("ami", "host"), ("ami", "username"), ("ccms", "url"), ("ccms", "ak")):
        value = (ami if section == "ami" else ccms)[key]
        if not isinstance(value, str) or not value:
            raise reader.fail(f"[{section}] {key} must be a non-empty string", key, section)
    if not re.match(r"^https?://", ccms["url"]):
        raise reader.fail("[ccms] url must start with http:// or https://", "url", "ccms")
    port = ami["port"] if ami["port"] is not None else (5039 if ami["tls"] else 5038)
    if _int_in(port, 1, 65535) is None:
        raise reader.fail("[ami] port must be an integer from 1 to 65535", "port", "ami")
    if _int_in(ccms["batch"], 1, 10_000) is None:
        raise reader.fail("[ccms] batch must be an integer from 1 to 10000", "batch", "ccms")
    if adapter["static_phone_gone"] not in ("busy", "signed_out"):
        raise reader.fail(
            "[adapter] static_phone_gone must be 'busy' or 'signed_out'", "static_phone_gone"
        )
    if adapter["log_level"] not in ("debug", "info", "warning", "error"):
        raise reader.fail("[adapter] log_level must be debug, info, warning or error", "log_level")
    if _int_in(adapter["pause_status"], 0, 10) is None:
        raise reader.fail("[adapter] pause_status must be a CTI status 0..10", "pause_status")
    if not 1 <= len(adapter["source"]) <= 64 or re.search(r"[\x00-\x1f]", adapter["source"]):
        raise reader.fail("[adapter] source must be 1 to 64 printable characters", "source")
    if adapter["listen"] and not re.match(r"^[^:\s]*:\d+$", adapter["listen"]):
        raise reader.fail("[adapter] listen must be host:port, or ''", "listen")
    if adapter["call_settle_s"] > 60:
        raise reader.fail("[adapter] call_settle_s must be from 0 to 60", "call_settle_s")
    if _int_in(spool["max_mb"], 1, 1_000_000) is None:
        raise reader.fail("[spool] max_mb must be a positive integer", "max_mb", "spool")

    def path(value: str) -> str:
        return str(base / value) if value and not os.path.isabs(value) else value

    large = ccms["large_work_numbers"]
    table = _table(reader, data.get("agents", {}), large)
    patterns = _patterns(reader, data.get("identity", []), large)
    return AdapterConfig(
        ami=AmiConfig(**{**ami, "port": port, "ca_bundle": path(ami["ca_bundle"])}),
        ccms=CcmsConfig(**{**ccms, "ca_bundle": path(ccms["ca_bundle"])}),
        listen=adapter["listen"],
        source=adapter["source"],
        send_names=adapter["send_names"],
        log_level=adapter["log_level"],
        spool_dir=Path(path(spool["dir"])),
        spool_max_bytes=spool["max_mb"] * 1024 * 1024,
        rules=Rules(
            queues=_queues(reader, data.get("queues", {}), _one_vdn(table, patterns)),
            pause_reasons=_pauses(reader, data.get("pause_reasons", {})),
            pause_default=PauseRule(adapter["pause_status"]),
            static_phone_gone=adapter["static_phone_gone"],
            calls=adapter["calls"],
            call_settle_s=adapter["call_settle_s"],
        ),
        table=table,
        patterns=patterns,
    )


def _one_vdn(
    table: Mapping[str, AgentKey], patterns: tuple[Pattern, ...]
) -> tuple[int, int] | None:
    """The one (ccId, vdn) every agent of the directory is in, if it names exactly one
    (a pattern that takes either from the member's name names none)."""
    vdns: set[tuple[int | None, int | None]] = {(k.cc_id, k.vdn) for k in table.values()}
    vdns |= {(p.cc_id, p.vdn) for p in patterns}
    if len(vdns) != 1:
        return None
    cc_id, vdn = next(iter(vdns))
    return None if cc_id is None or vdn is None else (cc_id, vdn)


def _queues(reader: _Reader, raw: object, one_vdn: tuple[int, int] | None) -> dict[str, QueueRule]:
    if not isinstance(raw, dict) or not raw:
        raise reader.fail("[queues.NAME] tables are needed: the queues ccms follows", "queues")
    queues = {}
    for name, entry in raw.items():
        where = f"[queues.{name}]"
        if not isinstance(entry, dict):
            raise reader.fail(f"{where} must be a table (skill = ID)", name)
        for key in entry:
            if key not in QUEUE_KEYS:
                line = key_line(reader.text, key, f"queues.{name}")
                raise SettingsError(unknown_key(key, QUEUE_KEYS, reader.source, line, where))
        skill = _int_in(entry.get("skill"), *SKILL_ID_RANGE)
        if skill is None:
            raise reader.fail(
                f"{where} skill must be a skill-queue id {SKILL_ID_RANGE[0]}..{SKILL_ID_RANGE[1]}",
                "skill", f"queues.{name}",
            )  # fmt: skip
        wrapup = entry.get("wrapup_s", 0)
        if isinstance(wrapup, bool) or not isinstance(wrapup, int | float) or wrapup < 0:
            raise reader.fail(
                f"{where} wrapup_s must be a number >= 0", "wrapup_s", f"queues.{name}"
            )
        cc_id, vdn = entry.get("ccId"), entry.get("vdn")
        if (cc_id is None) != (vdn is None) or (
            cc_id is not None and (_int_in(cc_id, *CC_ID_RANGE) is None
                                   or _int_in(vdn, *VDN_RANGE) is None)
        ):  # fmt: skip
            raise reader.fail(
                f"{where} needs both ccId {CC_ID_RANGE[0]}..{CC_ID_RANGE[1]} and vdn"
                f" {VDN_RANGE[0]}..{VDN_RANGE[1]}, or neither", "ccId", f"queues.{name}",
            )  # fmt: skip
        if cc_id is None and one_vdn is not None:
            cc_id, vdn = one_vdn
        queues[name] = QueueRule(skill, float(wrapup), cc_id, vdn)
    return queues


def _pauses(reader: _Reader, raw: object) -> dict[str, PauseRule]:
    if not isinstance(raw, dict):
        raise reader.fail("[pause_reasons] must be a table", "pause_reasons")
    rules = {}
    for reason, entry in raw.items():
        where = f"[pause_reasons] {reason!r}"
        if not isinstance(entry, dict):
            raise reader.fail(f"{where} must be {{ ctiStatus = N, reason = N }}", reason)
        for key in entry:
            if key not in PAUSE_KEYS:
                line = key_line(reader.text, reason, "pause_reasons")
                raise SettingsError(unknown_key(key, PAUSE_KEYS, reader.source, line, where))
        cti = _int_in(entry.get("ctiStatus"), 0, 10)
        code = entry.get("reason")
        if cti is None or (code is not None and _int_in(code, *REASON_RANGE) is None):
            raise reader.fail(
                f"{where} needs ctiStatus 0..10 and an optional reason 0..65535",
                reason, "pause_reasons",
            )  # fmt: skip
        rules[reason] = PauseRule(cti, code)
    return rules


def _key(reader: _Reader, entry: Mapping[str, Any], where: str, large: bool) -> AgentKey:
    cc_id = _int_in(entry.get("ccId"), *CC_ID_RANGE)
    vdn = _int_in(entry.get("vdn"), *VDN_RANGE)
    agent_id = entry.get("agentId")
    if cc_id is None or vdn is None or type(agent_id) is not int:
        raise reader.fail(f"{where} needs integers ccId, vdn and agentId")
    if not valid_agent_id(agent_id, large):
        raise reader.fail(f"{where} agentId {agent_id} is outside ccms's agent ids")
    return AgentKey(cc_id, vdn, agent_id)


def _table(reader: _Reader, raw: object, large: bool) -> dict[str, AgentKey]:
    if not isinstance(raw, dict):
        raise reader.fail('[agents] must be a table of [agents."NAME"] tables', "agents")
    table = {}
    for name, entry in raw.items():
        where = f"[agents.{name!r}]"
        if not isinstance(entry, dict):
            raise reader.fail(f"{where} must be a table")
        for key in entry:
            if key not in AGENT_KEYS:
                raise SettingsError(unknown_key(key, AGENT_KEYS, reader.source, None, where))
        table[name] = _key(reader, entry, where, large)
    return table


def _patterns(reader: _Reader, raw: object, large: bool) -> tuple[Pattern, ...]:
    if not isinstance(raw, list):
        raise reader.fail("write [[identity]] (a list of patterns), not [identity]", "identity")
    patterns = []
    for index, entry in enumerate(raw):
        where = f"[[identity]] #{index + 1}"
        line = key_line(reader.text, "match", "identity", index)
        at = f"{reader.source} line {line}" if line else reader.source
        for key in entry:
            if key not in IDENTITY_KEYS:
                key_at = key_line(reader.text, key, "identity", index)
                raise SettingsError(unknown_key(key, IDENTITY_KEYS, reader.source, key_at, where))
        try:
            regex = re.compile(entry.get("match", ""))
        except re.error as exc:
            raise SettingsError(f"{at}: {where} match is not a regular expression: {exc}") from None
        if not entry.get("match"):
            raise SettingsError(f"{at}: {where} needs 'match', a regular expression")
        groups = set(regex.groupindex)
        fixed = {}
        for key, (lo, hi) in (("ccId", CC_ID_RANGE), ("vdn", VDN_RANGE), ("agentId", (0, 999_999))):
            value = entry.get(key)
            if value is not None and _int_in(value, lo, hi) is None:
                raise SettingsError(f"{at}: {where} {key} must be an integer from {lo} to {hi}")
            if value is None and key not in groups:
                raise SettingsError(
                    f"{at}: {where} needs {key}, or a named group (?P<{key}>...) in match"
                )
            fixed[key] = value
        if fixed["agentId"] is not None and not valid_agent_id(fixed["agentId"], large):
            raise SettingsError(f"{at}: {where} agentId is outside ccms's agent ids")
        on = entry.get("on", list(FIELDS))
        if not isinstance(on, list) or not on or not set(on) <= set(FIELDS):
            raise SettingsError(f"{at}: {where} on must list some of {', '.join(FIELDS)}")
        patterns.append(Pattern(regex, fixed["ccId"], fixed["vdn"], fixed["agentId"], tuple(on)))
    return tuple(patterns)


def load_config(path: str | Path) -> AdapterConfig:
    """Read and check the file at ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
        mode = file.stat().st_mode
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SettingsError(f"{path} holds secrets and others may read it: chmod 600 {path}")
    return parse_config(text, str(path), file.resolve().parent)
