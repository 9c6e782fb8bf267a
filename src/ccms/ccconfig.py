"""The call center's configuration file (``cc_config_file``), and how a running server
follows it: what the vendor keeps on its configuration console and ccms cannot learn from
events (``docs/calls.md``, "The configuration file").

A TOML file::

    max_call_num = 100          # every skill queue; absent: the defaults (the vendor's
    max_wait_time = 60          # sample values, ccms.domain.service.SkillConfig)
    rest_reasons = { 1 = "Short break", 2 = "Lunch" }   # every VDN's names of its
    busy_reasons = { 11 = "Personal time" }             # reason codes (CTI 8 and 7)

    [[skill]]                   # one skill queue's own (what it leaves out: the above)
    cc_id = 1
    vdn = 1
    skill = 7
    max_wait_time = 120

    [[access_code]]             # the access code an innoId stands for
    cc_id = 1
    vdn = 1
    id = 1
    code = "650550"

    [[vdn]]                     # one VDN's own names (over those of every VDN)
    cc_id = 1
    vdn = 2
    rest_reasons = { 2 = "Lunch break" }

It is read, refused and reloaded as the flags file is (``ccms.thresholds``): anything ccms
would have to guess about is refused with one line naming the file, the line and the key,
and :meth:`CcConfig.reload` (SIGHUP) keeps the configuration in use when the file is
refused, with one line in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ccms.domain.agent import CC_ID_RANGE, REASON_RANGE, SKILL_ID_RANGE, VDN_RANGE
from ccms.domain.flags import PHONE_UNAVAILABLE_REASON
from ccms.domain.service import DEFAULT_SKILL_CONFIG, INNO_ID_RANGE, SkillConfig, default_code
from ccms.errors import CCMSError
from ccms.tomlkeys import TableReader, parse_toml, read_toml

log = logging.getLogger(__name__)

VALUE_RANGE = (0, 2**31 - 1)  # the vendor's Integer
MAX_CODE = 32  # as the intake's accessCode
MAX_REASON_NAME = 40  # characters of a reason's name (a tile shows it in one line)
SKILL_KEYS = frozenset(SkillConfig._fields)
REASON_KEYS = ("busy_reasons", "rest_reasons")
TOP_KEYS = frozenset({*SKILL_KEYS, *REASON_KEYS, "skill", "access_code", "vdn"})


class ReasonNames(NamedTuple):
    """The names of a VDN's reason codes, for busy (CTI 7) and for rest (CTI 8): pairs
    ``(code, name)`` in code order (hashable: streams that share a snapshot share them).
    A code without a name is shown as ``Reason N``. The default names the one code ccms
    knows the meaning of: busy reason 5, phone unavailable (the flag of that name)."""

    busy: tuple[tuple[int, str], ...] = ((PHONE_UNAVAILABLE_REASON, "Phone unavailable"),)
    rest: tuple[tuple[int, str], ...] = ()

    def over(self, busy: Mapping[int, str], rest: Mapping[int, str]) -> ReasonNames:
        """These names with ``busy`` and ``rest`` added (a code named again: the new name)."""
        return ReasonNames(_merged(self.busy, busy), _merged(self.rest, rest))

    def wire(self) -> dict[str, dict[str, str]]:
        """As the stream's snapshot carries them: ``{"busy": {"5": "..."}, "rest": {...}}``."""
        return {
            "busy": {str(code): name for code, name in self.busy},
            "rest": {str(code): name for code, name in self.rest},
        }


DEFAULT_REASON_NAMES = ReasonNames()


def _merged(
    names: tuple[tuple[int, str], ...], more: Mapping[int, str]
) -> tuple[tuple[int, str], ...]:
    return tuple(sorted({**dict(names), **more}.items()))


class CcConfigError(CCMSError):
    """The configuration file cannot be read, or holds something ccms refuses."""


@dataclass(frozen=True)
class CallCenterConfig:
    """What the file says: the limits of every skill queue (``default``), of some queues
    (``skills``, by call center, VDN and queue), the access code of some innoIds
    (``codes``, by call center, VDN and id), the names of the reason codes of every VDN
    (``reasons``) and of some VDNs (``vdn_reasons``, by call center and VDN)."""

    default: SkillConfig = DEFAULT_SKILL_CONFIG
    skills: Mapping[tuple[int, int, int], SkillConfig] = field(default_factory=dict)
    codes: Mapping[tuple[int, int, int], str] = field(default_factory=dict)
    reasons: ReasonNames = DEFAULT_REASON_NAMES
    vdn_reasons: Mapping[tuple[int, int], ReasonNames] = field(default_factory=dict)

    def skill(self, cc_id: int, vdn: int, skill_id: int) -> SkillConfig:
        return self.skills.get((cc_id, vdn, skill_id), self.default)

    def code(self, cc_id: int, vdn: int, inno_id: int) -> str:
        """The access code of ``inno_id``: the file's, else the id in decimal."""
        return self.codes.get((cc_id, vdn, inno_id), default_code(inno_id))

    def reason_names(self, cc_id: int, vdn: int) -> ReasonNames:
        """The names of the VDN's busy and rest reason codes: its own over every VDN's."""
        return self.vdn_reasons.get((cc_id, vdn), self.reasons)


class _Reader(TableReader):
    def __init__(self, text: str, source: str) -> None:
        super().__init__(text, source, CcConfigError)

    def limits(
        self, data: Mapping[str, Any], over: SkillConfig, table: str | None, index: int
    ) -> SkillConfig:
        self.known(data, SKILL_KEYS if table else TOP_KEYS, table, index)
        values = {
            key: self.int_in(data, key, VALUE_RANGE, table, index)
            for key in SkillConfig._fields if key in data
        }  # fmt: skip
        return over._replace(**values)

    def code(self, data: Mapping[str, Any], index: int) -> str:
        self.known(data, {"code"}, "access_code", index)
        if "code" not in data:
            self.fail("access_code", f"[[access_code]] #{index + 1} needs code", "access_code",
                      index)  # fmt: skip
        value = data["code"]
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_CODE or not value.isprintable():
            self.fail("code", f"code must be a string of 1 to {MAX_CODE} printable characters,"
                      f" got {value!r}", "access_code", index)  # fmt: skip
        return str(value)

    def reasons(
        self, data: Mapping[str, Any], over: ReasonNames, table: str | None, index: int
    ) -> ReasonNames:
        """``over`` with the names ``data``'s ``busy_reasons`` and ``rest_reasons`` give."""
        found: dict[str, dict[int, str]] = {}
        for key in REASON_KEYS:
            value = data.get(key, {})
            if not isinstance(value, dict):
                self.fail(key, f'{key} must be a table of codes and names ({key} = {{ 1 = "Lunch"'
                          f" }}), got {value!r}", table, index)  # fmt: skip
            names: dict[int, str] = {}
            for code, name in value.items():
                lo, hi = REASON_RANGE
                if not (code.isascii() and code.isdigit()) or not lo <= int(code) <= hi:
                    self.fail(key, f"{key}: {code!r} is not a reason code from {lo} to {hi}",
                              table, index)  # fmt: skip
                if int(code) in names:
                    self.fail(key, f"{key}: reason code {int(code)} is named twice", table, index)
                if (not isinstance(name, str) or not name.strip() or not name.isprintable()
                        or len(name) > MAX_REASON_NAME):  # fmt: skip
                    self.fail(key, f"{key}: the name of {code} must be a string of 1 to"
                              f" {MAX_REASON_NAME} printable characters, got {name!r}", table,
                              index)  # fmt: skip
                names[int(code)] = name.strip()
            found[key] = names
        return over.over(found["busy_reasons"], found["rest_reasons"])


def parse_cc_config(text: str, source: str) -> CallCenterConfig:
    """The configuration of a file's ``text`` (``source`` names it in errors)."""
    data = parse_toml(text, source, CcConfigError)
    reader = _Reader(text, source)
    reader.known(data, TOP_KEYS)
    top = {k: v for k, v in data.items() if k in SKILL_KEYS}
    default = reader.limits(top, DEFAULT_SKILL_CONFIG, None, 0)
    reasons = reader.reasons(data, DEFAULT_REASON_NAMES, None, 0)
    queue_ids = [("cc_id", CC_ID_RANGE), ("vdn", VDN_RANGE), ("skill", SKILL_ID_RANGE)]
    skills = {
        (key[0], key[1], key[2]): reader.limits(rest, default, "skill", index)
        for key, index, rest in reader.entries(data.get("skill"), "skill", queue_ids)
    }
    code_ids = [("cc_id", CC_ID_RANGE), ("vdn", VDN_RANGE), ("id", INNO_ID_RANGE)]
    codes = {
        (key[0], key[1], key[2]): reader.code(rest, index)
        for key, index, rest in reader.entries(data.get("access_code"), "access_code", code_ids)
    }
    vdn_ids = [("cc_id", CC_ID_RANGE), ("vdn", VDN_RANGE)]
    vdn_reasons: dict[tuple[int, int], ReasonNames] = {}
    for key, index, rest in reader.entries(data.get("vdn"), "vdn", vdn_ids):
        reader.known(rest, REASON_KEYS, "vdn", index)
        vdn_reasons[(key[0], key[1])] = reader.reasons(rest, reasons, "vdn", index)
    return CallCenterConfig(default, skills, codes, reasons, vdn_reasons)


def load_cc_config(path: str) -> CallCenterConfig:
    """The configuration of the file at ``path`` (see :func:`parse_cc_config`)."""
    text, _ = read_toml(path, "the configuration file", CcConfigError)
    return parse_cc_config(text, path)


class CcConfig:
    """The configuration a server uses, from its file (``path``); without a file, the
    defaults (every queue the vendor's sample limits, every innoId its decimal code)."""

    def __init__(self, path: str = "", config: CallCenterConfig | None = None) -> None:
        self.path = path
        if config is None:
            config = load_cc_config(path) if path else CallCenterConfig()
        self.config = config

    def reload(self) -> bool:
        """Read the file again; True when it is now in use. A file ccms refuses keeps
        the configuration in use (one line in the log)."""
        if not self.path:
            return False
        try:
            config = load_cc_config(self.path)
        except CcConfigError as exc:
            log.error("configuration file not reloaded, the configuration in use stays: %s", exc)
            return False
        self.config = config
        log.warning(
            "configuration file %s reloaded: %d skill queues, %d access codes and %d VDNs"
            " with reason names of their own",
            self.path, len(config.skills), len(config.codes), len(config.vdn_reasons),
        )  # fmt: skip
        return True
