"""The thresholds file of the flags (``flags_file``), and how a running server follows it.

A TOML file (``docs/flags.md``)::

    ringing_s = 20            # every VDN; absent: the documented defaults
    wrapup_s = 120
    rest_s = 900
    talking_s = 600
    rest_reasons = { 3 = 1800 }          # approved rest length by rest reason code
    levels = { ringing-long = "alert" }  # a flag's level: warning or alert
    enabled = { no-skill = false }       # a flag switched off

    [[vdn]]                   # one VDN's own (what it leaves out: the above)
    cc_id = 1
    vdn = 1
    ringing_s = 15

    [[skill]]                 # one skill queue's (the longest of an agent's queues wins)
    cc_id = 1
    vdn = 1
    skill = 7
    wrapup_s = 300

Anything ccms would have to guess about is refused with one line naming the file, the
line and the key: an unknown key or flag, a number of seconds out of range, a level other
than warning or alert, a VDN or skill queue listed twice. :class:`FlagConfig` holds the
thresholds in use (its :meth:`~FlagConfig.flags_of` is the app's ``Context.flags``) and
reads the file again on :meth:`~FlagConfig.reload` (SIGHUP): a file it refuses keeps the
thresholds in use, with one line in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from ccms.domain.agent import CC_ID_RANGE, REASON_RANGE, SKILL_ID_RANGE, VDN_RANGE, AgentRecord
from ccms.domain.flags import (
    DEFAULT_LIMITS,
    FLAG_NAMES,
    LEVELS,
    Flag,
    FlagRules,
    Limits,
    Thresholds,
)
from ccms.errors import CCMSError
from ccms.tomlkeys import TableReader, parse_toml, read_toml, unknown_key

log = logging.getLogger(__name__)

SECONDS_RANGE = (1, 86_400)
LIMIT_KEYS = ("ringing_s", "wrapup_s", "rest_s", "talking_s")
MAP_KEYS = ("rest_reasons", "levels", "enabled")
TOP_KEYS = frozenset({*LIMIT_KEYS, *MAP_KEYS, "vdn", "skill"})
VDN_KEYS = frozenset({*LIMIT_KEYS, *MAP_KEYS, "cc_id", "vdn"})
SKILL_KEYS = frozenset({*LIMIT_KEYS, "rest_reasons", "levels", "cc_id", "vdn", "skill"})


class ThresholdsError(CCMSError):
    """The thresholds file cannot be read, or holds something ccms refuses."""


class _Reader(TableReader):
    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source, ThresholdsError)

    def limits(self, data: Mapping[str, Any], table: str | None, index: int) -> Limits:
        known = VDN_KEYS if table == "vdn" else SKILL_KEYS if table == "skill" else TOP_KEYS
        self.known(data, known, table, index)
        seconds = {
            key: self.int_in(data, key, SECONDS_RANGE, table, index)
            for key in LIMIT_KEYS if key in data
        }  # fmt: skip
        reasons: dict[int, int] = {}
        for code, value in self._table(data, "rest_reasons", table, index).items():
            if not (code.isascii() and code.isdigit()) or not (
                REASON_RANGE[0] <= int(code) <= REASON_RANGE[1]
            ):
                lo, hi = REASON_RANGE
                rule = f"rest_reasons: {code!r} is not a reason code from {lo} to {hi}"
                self.fail("rest_reasons", rule, table, index)
            reasons[int(code)] = self.int_in({code: value}, code, SECONDS_RANGE, table, index)
        levels: dict[str, str] = {}
        for name, level in self._table(data, "levels", table, index).items():
            self._flag_name("levels", name, table, index)
            if level not in LEVELS:
                self.fail("levels", f"levels: {name} must be one of {', '.join(LEVELS)},"
                          f" got {level!r}", table, index)  # fmt: skip
            levels[name] = level
        enabled: dict[str, bool] = {}
        for name, on in self._table(data, "enabled", table, index).items():
            self._flag_name("enabled", name, table, index)
            if not isinstance(on, bool):
                self.fail("enabled", f"enabled: {name} must be true or false, got {on!r}",
                          table, index)  # fmt: skip
            enabled[name] = on
        return Limits(**seconds, rest_reasons=reasons, levels=levels, enabled=enabled)

    def _table(self, data: Mapping[str, Any], key: str, table: str | None,
               index: int) -> dict[str, Any]:  # fmt: skip
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(key, f"{key} must be a table ({key} = {{ ... }})", table, index)
        return dict(value)

    def _flag_name(self, key: str, name: str, table: str | None, index: int) -> None:
        if name not in FLAG_NAMES:
            self.fail(key, unknown_key(name, FLAG_NAMES, key, noun="flag").partition(": ")[2],
                      table, index)  # fmt: skip

    def scoped(self, data: Any, table: str) -> list[tuple[tuple[int, ...], Limits]]:
        ids = [("cc_id", CC_ID_RANGE), ("vdn", VDN_RANGE)]
        if table == "skill":
            ids.append(("skill", SKILL_ID_RANGE))
        return [(key, self.limits(rest, table, index))
                for key, index, rest in self.entries(data, table, ids)]  # fmt: skip


def parse_thresholds(text: str, source: str) -> Thresholds:
    """The thresholds of a file's ``text`` (``source`` names it in errors)."""
    data = parse_toml(text, source, ThresholdsError)
    reader = _Reader(text, source)
    top = {k: v for k, v in data.items() if k not in ("vdn", "skill")}
    default = reader.limits(top, None, 0).over(DEFAULT_LIMITS)
    vdns = {(k[0], k[1]): v for k, v in reader.scoped(data.get("vdn"), "vdn")}
    skills = {(k[0], k[1], k[2]): v for k, v in reader.scoped(data.get("skill"), "skill")}
    return Thresholds(default, vdns, skills)


def load_thresholds(path: str) -> Thresholds:
    """The thresholds of the file at ``path`` (see :func:`parse_thresholds`)."""
    text, _ = read_toml(path, "the flags file", ThresholdsError)
    return parse_thresholds(text, path)


class FlagConfig:
    """The thresholds a server uses, from its flags file (``path``). Without a file (and
    without ``thresholds``) no agent has flags: :attr:`configured` is false and
    :meth:`flags_of` is :func:`~ccms.domain.flags.no_flags`. ``listeners`` are told of
    each reload that changed the thresholds (the flag timers compute their moments again).
    """

    def __init__(self, path: str = "", thresholds: Thresholds | None = None) -> None:
        self.path = path
        if thresholds is None and path:
            thresholds = load_thresholds(path)
        self.configured = thresholds is not None
        self.rules = FlagRules(thresholds or Thresholds())
        self.listeners: list[Callable[[], None]] = []

    @property
    def thresholds(self) -> Thresholds:
        return self.rules.thresholds

    def flags_of(self, record: AgentRecord, now_ms: int) -> tuple[Flag, ...]:
        """The agent's flags at ``now_ms`` under the thresholds in use (a ``FlagsOf``)."""
        if not self.configured:
            return ()
        return self.rules(record, now_ms)

    def use(self, thresholds: Thresholds) -> None:
        self.rules = FlagRules(thresholds)
        for listener in list(self.listeners):
            listener()

    def reload(self) -> bool:
        """Read the file again; True when its thresholds are now in use. A file ccms
        refuses keeps the thresholds in use (one line in the log)."""
        if not self.path:
            log.warning("no flags file (flags_file) to read again: agents have no flags")
            return False
        try:
            thresholds = load_thresholds(self.path)
        except ThresholdsError as exc:
            log.error("flags file not reloaded, the thresholds in use stay: %s", exc)
            return False
        if thresholds != self.thresholds:
            self.use(thresholds)
        log.warning(
            "flags file %s reloaded: %d VDNs and %d skill queues with thresholds of their own",
            self.path, len(thresholds.vdns), len(thresholds.skills),
        )  # fmt: skip
        return True
