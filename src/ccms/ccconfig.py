"""The call center's configuration file (``cc_config_file``), and how a running server
follows it: what the vendor keeps on its configuration console and ccms cannot learn from
events (``docs/calls.md``, "The configuration file").

A TOML file::

    max_call_num = 100          # every skill queue; absent: the defaults (the vendor's
    max_wait_time = 60          # sample values, ccms.domain.service.SkillConfig)

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

It is read, refused and reloaded as the flags file is (``ccms.thresholds``): anything ccms
would have to guess about is refused with one line naming the file, the line and the key,
and :meth:`CcConfig.reload` (SIGHUP) keeps the configuration in use when the file is
refused, with one line in the log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ccms.domain.agent import CC_ID_RANGE, SKILL_ID_RANGE, VDN_RANGE
from ccms.domain.service import DEFAULT_SKILL_CONFIG, INNO_ID_RANGE, SkillConfig, default_code
from ccms.errors import CCMSError
from ccms.tomlkeys import TableReader, parse_toml, read_toml

log = logging.getLogger(__name__)

VALUE_RANGE = (0, 2**31 - 1)  # the vendor's Integer
MAX_CODE = 32  # as the intake's accessCode
SKILL_KEYS = frozenset(SkillConfig._fields)
TOP_KEYS = frozenset({*SKILL_KEYS, "skill", "access_code"})


class CcConfigError(CCMSError):
    """The configuration file cannot be read, or holds something ccms refuses."""


@dataclass(frozen=True)
class CallCenterConfig:
    """What the file says: the limits of every skill queue (``default``), of some queues
    (``skills``, by call center, VDN and queue) and the access code of some innoIds
    (``codes``, by call center, VDN and id)."""

    default: SkillConfig = DEFAULT_SKILL_CONFIG
    skills: Mapping[tuple[int, int, int], SkillConfig] = field(default_factory=dict)
    codes: Mapping[tuple[int, int, int], str] = field(default_factory=dict)

    def skill(self, cc_id: int, vdn: int, skill_id: int) -> SkillConfig:
        return self.skills.get((cc_id, vdn, skill_id), self.default)

    def code(self, cc_id: int, vdn: int, inno_id: int) -> str:
        """The access code of ``inno_id``: the file's, else the id in decimal."""
        return self.codes.get((cc_id, vdn, inno_id), default_code(inno_id))


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


def parse_cc_config(text: str, source: str) -> CallCenterConfig:
    """The configuration of a file's ``text`` (``source`` names it in errors)."""
    data = parse_toml(text, source, CcConfigError)
    reader = _Reader(text, source)
    top = {k: v for k, v in data.items() if k not in ("skill", "access_code")}
    default = reader.limits(top, DEFAULT_SKILL_CONFIG, None, 0)
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
    return CallCenterConfig(default, skills, codes)


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
            "configuration file %s reloaded: %d skill queues and %d access codes of their own",
            self.path, len(config.skills), len(config.codes),
        )  # fmt: skip
        return True
