"""Who an Asterisk queue member is in ccms: ``(ccId, vdn, agentId)``.

Asterisk names a member three ways: ``MemberName`` (``Alice``), ``Interface`` (the channel
it is called on, ``Local/1001@agents/n``, ``PJSIP/1001``) and ``StateInterface`` (the
device its state is read from, ``Custom:1001``). The :class:`Directory` tries, in order:

1. the table (``[agents."PJSIP/alice"]``): an exact Interface, StateInterface or
   MemberName;
2. the patterns (``[[identity]]``), each a regular expression tried against the
   Interface, then the StateInterface, then the MemberName (or the fields its ``on``
   names); its named groups ``agentId`` (and ``ccId``, ``vdn`` when the pattern does not
   fix them) give the identity.

A member it cannot map is never guessed: it is left out, counted, and logged once.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ccms.domain.agent import (
    CC_ID_RANGE,
    LARGE_WORK_NO_RANGE,
    VDN_RANGE,
    WORK_NO_RANGE,
    AgentKey,
)

log = logging.getLogger(__name__)

FIELDS = ("Interface", "StateInterface", "MemberName")


@dataclass(frozen=True)
class Pattern:
    """One ``[[identity]]`` entry."""

    regex: re.Pattern[str]
    cc_id: int | None = None
    vdn: int | None = None
    agent_id: int | None = None
    on: tuple[str, ...] = FIELDS


@dataclass
class Directory:
    """Maps members to agents; remembers what it could not map."""

    table: Mapping[str, AgentKey] = field(default_factory=dict)
    patterns: Sequence[Pattern] = ()
    large_work_numbers: bool = False
    unmapped: dict[str, str] = field(default_factory=dict)  # member -> why, each logged once
    _cache: dict[tuple[str, str, str], AgentKey | None] = field(default_factory=dict)

    def resolve(self, interface: str, state_interface: str, member_name: str) -> AgentKey | None:
        key = (interface, state_interface, member_name)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found, why = self._lookup(interface, state_interface, member_name)
        if found is None:
            label = member_name or interface
            shown = f"{label} ({interface})" if member_name and interface else label
            if shown not in self.unmapped:
                self.unmapped[shown] = why
                log.warning("queue member %s is not mapped to an agent: %s", shown, why)
        if len(self._cache) > 100_000:  # members come and go; never grow without bound
            self._cache.clear()
        self._cache[key] = found
        return found

    def _lookup(
        self, interface: str, state_interface: str, member_name: str
    ) -> tuple[AgentKey | None, str]:
        values = {"Interface": interface, "StateInterface": state_interface,
                  "MemberName": member_name}  # fmt: skip
        for name in FIELDS:
            value = values[name]
            if value and value in self.table:
                return self.table[value], ""
        for pattern in self.patterns:
            for name in pattern.on:
                match = pattern.regex.search(values[name]) if values[name] else None
                if match is None:
                    continue
                return self._identity(pattern, match.groupdict())
        return None, "no [agents] entry and no [[identity]] pattern matches"

    def _identity(
        self, pattern: Pattern, groups: Mapping[str, str | None]
    ) -> tuple[AgentKey | None, str]:
        def number(name: str, fixed: int | None) -> int | None:
            text = groups.get(name)
            if text is not None and text.isdigit():
                return int(text)
            return fixed

        cc_id = number("ccId", pattern.cc_id)
        vdn = number("vdn", pattern.vdn)
        agent_id = number("agentId", pattern.agent_id)
        if cc_id is None or vdn is None or agent_id is None:
            return None, f"pattern {pattern.regex.pattern!r} gives no ccId, vdn or agentId"
        if not CC_ID_RANGE[0] <= cc_id <= CC_ID_RANGE[1]:
            return None, f"ccId {cc_id} is outside {CC_ID_RANGE[0]}..{CC_ID_RANGE[1]}"
        if not VDN_RANGE[0] <= vdn <= VDN_RANGE[1]:
            return None, f"vdn {vdn} is outside {VDN_RANGE[0]}..{VDN_RANGE[1]}"
        if not valid_agent_id(agent_id, self.large_work_numbers):
            return None, f"agentId {agent_id} is outside {WORK_NO_RANGE[0]}..{WORK_NO_RANGE[1]}"
        return AgentKey(cc_id, vdn, agent_id), ""


def valid_agent_id(agent_id: int, large_work_numbers: bool) -> bool:
    lo, hi = WORK_NO_RANGE
    big_lo, big_hi = LARGE_WORK_NO_RANGE
    return lo <= agent_id <= hi or (large_work_numbers and big_lo <= agent_id <= big_hi)
