"""Text for people: agent statuses in words and colours, durations, the agent panel and
the ``watch`` table. Pure functions of their inputs (time zone and "now" included)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from ccms.client.agent_list import ListedAgent
from ccms.client.models import AgentDetail
from ccms.domain.status import AgentStatus, CtiStatus

STATUS_WORDS: dict[AgentStatus, str] = {
    AgentStatus.UNKNOWN: "unknown",
    AgentStatus.SIGNED_IN: "signed in",
    AgentStatus.SIGNED_OUT: "signed out",
    AgentStatus.BUSY: "busy",
    AgentStatus.IDLE: "idle",
    AgentStatus.WRAP_UP: "wrap-up",
    AgentStatus.IDLE_RESERVED: "idle (reserved)",
    AgentStatus.TALKING: "talking",
    AgentStatus.REST: "rest",
}

CTI_WORDS: dict[CtiStatus, str] = {
    CtiStatus.SIGNED_OUT: "not signed in",
    CtiStatus.IDLE: "idle",
    CtiStatus.PREOCCUPIED: "preoccupied",
    CtiStatus.OCCUPIED: "occupied",
    CtiStatus.ANSWERING: "answering",
    CtiStatus.TALKING: "talking",
    CtiStatus.WORKING: "working",
    CtiStatus.BUSY: "showing busy",
    CtiStatus.REST: "rest",
    CtiStatus.STUDY: "study",
    CtiStatus.ADJUSTING: "adjusting",
}

# ANSI SGR codes: green idle, cyan talking, yellow wrap-up, red busy, magenta rest, grey out.
STATUS_COLOURS: dict[AgentStatus, str] = {
    AgentStatus.IDLE: "32",
    AgentStatus.IDLE_RESERVED: "32",
    AgentStatus.TALKING: "36",
    AgentStatus.WRAP_UP: "33",
    AgentStatus.BUSY: "31",
    AgentStatus.REST: "35",
    AgentStatus.SIGNED_OUT: "90",
}

# The order of ``watch``: agents on calls first, signed-out agents last.
STATUS_ORDER: tuple[AgentStatus, ...] = (
    AgentStatus.TALKING,
    AgentStatus.WRAP_UP,
    AgentStatus.BUSY,
    AgentStatus.REST,
    AgentStatus.IDLE,
    AgentStatus.IDLE_RESERVED,
    AgentStatus.SIGNED_IN,
    AgentStatus.UNKNOWN,
    AgentStatus.SIGNED_OUT,
)
_RANK = {status: rank for rank, status in enumerate(STATUS_ORDER)}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 event``, ``0 events``, ``1,200 events`` (``many``: the plural when not ``word`` + s)."""
    return f"{count:,} {word if count == 1 else many or word + 's'}"


def paint(text: str, status: AgentStatus, colour: bool) -> str:
    code = STATUS_COLOURS.get(status)
    if not colour or code is None:
        return text
    return f"\x1b[{code}m{text}\x1b[0m"


def duration(seconds: int) -> str:
    """``1h 02m`` from an hour on, ``4m 05s`` from a minute on, else ``45s``."""
    seconds = max(0, seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _moment(ms: int, tz: tzinfo | None) -> datetime:
    moment = datetime.fromtimestamp(ms / 1000, tz)
    return moment if tz is not None else moment.astimezone()


def sign_in_time(login_date: int | None, tz: tzinfo | None = None) -> str:
    """The sign-in time in local time (or ``tz``), or ``signed out``."""
    if login_date is None:
        return "signed out"
    return _moment(login_date, tz).strftime("%Y-%m-%d %H:%M:%S %Z").rstrip()


def cti_text(status: CtiStatus) -> str:
    return f"{int(status)} {CTI_WORDS[status]}"


def agent_panel(agent: AgentDetail, cc_id: int, *, colour: bool, tz: tzinfo | None = None) -> str:
    """The readable panel of ``ccms agent``."""
    status = STATUS_WORDS[agent.status]
    rows = [
        ("status", paint(status, agent.status, colour)),
        ("CTI status", cti_text(agent.cti_status)),
        ("in state", duration(agent.current_state_time)),
        ("signed in", sign_in_time(agent.login_date, tz)),
        ("phone", agent.phone_number or "-"),
        ("media type", str(agent.media_type)),
    ]
    title = f"Agent {agent.work_no}  {agent.name or '(no name)'}"
    lines = [title, f"  call center {cc_id}, VDN {agent.vdn_id}"]
    lines += [f"  {label:<12}{value}" for label, value in rows]
    return "\n".join(lines)


@dataclass(frozen=True)
class WatchRow:
    """One agent of ``watch``; ``cti_status`` ``None``: the server does not know the agent."""

    work_no: int
    name: str | None = None
    status: AgentStatus = AgentStatus.UNKNOWN
    cti_status: CtiStatus | None = None
    current_state_time: int = 0
    login_date: int | None = None

    @classmethod
    def of(cls, agent: AgentDetail) -> WatchRow:
        return cls(agent.work_no, agent.name, agent.status, agent.cti_status,
                   agent.current_state_time, agent.login_date)  # fmt: skip

    @property
    def known(self) -> bool:
        return self.cti_status is not None

    def sort_key(self) -> tuple[int, int, int]:
        if not self.known:
            return (len(STATUS_ORDER), 0, self.work_no)
        rank = _RANK.get(self.status, len(STATUS_ORDER) - 1)
        return (rank, -self.current_state_time, self.work_no)


UNKNOWN_AGENT = "unknown"  # the word of a row whose agent the server does not know


def watch_counts(rows: Sequence[WatchRow], *, colour: bool) -> str:
    """``12 talking, 3 wrap-up, 40 idle, 5 signed out, 2 unknown``: agents per status, in
    the order of the table."""
    counts = Counter(row.status if row.known else None for row in rows)
    parts = [f"{counts[status]} {paint(STATUS_WORDS[status], status, colour)}"
             for status in STATUS_ORDER if counts[status]]  # fmt: skip
    if counts[None]:
        parts.append(f"{counts[None]} {UNKNOWN_AGENT}")
    return ", ".join(parts) or "no agents"


def _short_time(login_date: int | None, now_ms: int, tz: tzinfo | None) -> str:
    if login_date is None:
        return "-"
    moment = _moment(login_date, tz)
    if moment.date() == _moment(now_ms, tz).date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


HEADER = ("AGENT", "NAME", "STATUS", "CTI", "IN STATE", "SIGNED IN")
_NAME, _STATUS = 1, 2
_GIVE_WAY = (5, 3, 4)  # the columns dropped first when the terminal is narrow
_NAME_MIN = 8
_GAP = 2


def _cells(row: WatchRow, now_ms: int, tz: tzinfo | None) -> tuple[str, ...]:
    if row.cti_status is None:
        return (str(row.work_no), "-", UNKNOWN_AGENT, "", "", "")
    return (
        str(row.work_no), row.name or "-", STATUS_WORDS[row.status], cti_text(row.cti_status),
        duration(row.current_state_time), _short_time(row.login_date, now_ms, tz),
    )  # fmt: skip


def _layout(widths: list[int], width: int | None) -> tuple[list[int], int]:
    """The columns shown and the width of the name column, to fit ``width``."""
    columns = list(range(len(widths)))
    name = widths[_NAME]
    if width is None:
        return columns, name

    def total(name_width: int) -> int:
        return sum(name_width if c == _NAME else widths[c] for c in columns) + _GAP * (
            len(columns) - 1
        )

    for drop in _GIVE_WAY:
        if total(min(name, _NAME_MIN)) <= width:
            break
        columns.remove(drop)
    slack = width - total(min(name, _NAME_MIN))
    return columns, max(4, min(name, _NAME_MIN + slack))


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def watch_table(
    rows: Sequence[WatchRow],
    *,
    now_ms: int,
    colour: bool,
    tz: tzinfo | None = None,
    room: int | None = None,
    width: int | None = None,
) -> str:
    """The ``watch`` table, sorted by status (talking first), then longest in state; in at
    most ``room`` lines (the header, the first rows, ``+N more``) and ``width`` columns
    (the sign-in time, the CTI status and the time in state give way, names shorten)."""
    ordered = sorted(rows, key=WatchRow.sort_key)
    hidden = 0
    if room is not None and len(ordered) + 1 > room:
        shown = max(0, room - 2)
        hidden = len(ordered) - shown
        ordered = ordered[:shown]
    cells = [(_cells(row, now_ms, tz), row.status if row.known else None) for row in ordered]
    widths = [len(title) for title in HEADER]
    for values, _ in cells:
        widths = [max(w, len(value)) for w, value in zip(widths, values, strict=True)]
    columns, name_width = _layout(widths, width)
    widths[_NAME] = name_width

    def line(values: tuple[str, ...], status: AgentStatus | None) -> str:
        parts = []
        for index in columns:
            value = _clip(values[index], widths[index])
            pad = "" if index == columns[-1] else " " * (widths[index] - len(value))
            if index == _STATUS and status is not None:
                value = paint(value, status, colour)
            parts.append(value + pad)
        return (" " * _GAP).join(parts).rstrip()

    lines = [line(HEADER, None)] + [line(values, status) for values, status in cells]
    if hidden:
        lines.append(f"+{hidden:,} more")
    if width is not None:
        lines = [cut(text, width) for text in lines]
    return "\n".join(lines)


_SGR = re.compile(r"\x1b\[[0-9;]*m")


def cut(text: str, width: int) -> str:
    """``text`` within ``width`` visible columns (colour codes take none; a line cut short
    loses its colours rather than leave one open)."""
    if len(_SGR.sub("", text)) <= width:
        return text
    return _SGR.sub("", text)[:width]


# -- the agent list (ccms agents) ----------------------------------------------------------

LIST_HEADER = ("AGENT", "NAME", "STATUS", "CTI", "IN STATE", "REASON", "SKILLS", "CALLS", "FLAGS")


def list_counts(counts: Mapping[AgentStatus, int], *, colour: bool) -> str:
    """``3 talking, 1 wrap-up, 2 idle``: the counts of every page, in the order of ``watch``."""
    parts = [f"{counts[status]} {paint(STATUS_WORDS[status], status, colour)}"
             for status in STATUS_ORDER if counts.get(status)]  # fmt: skip
    return ", ".join(parts) or "no agents"


def agent_list_table(agents: Sequence[ListedAgent], *, colour: bool) -> str:
    """The table of ``ccms agents``, in the order the server gave (its sort); the time in
    state as of each page's answer, flags as ``name (level)``."""
    rows = []
    for agent in agents:
        seconds = agent.seconds_in_state
        flags = ", ".join(f"{flag.name} ({flag.level})" for flag in agent.flags)
        rows.append((
            (str(agent.work_no), agent.name or "-", STATUS_WORDS[agent.status],
             cti_text(agent.cti_status), duration(seconds),
             "-" if agent.reason is None else str(agent.reason),
             ",".join(map(str, agent.skills)) or "-", str(len(agent.calls)), flags or "-"),
            agent.status,
        ))  # fmt: skip
    widths = [len(title) for title in LIST_HEADER]
    for values, _ in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, values, strict=True)]

    def line(values: tuple[str, ...], status: AgentStatus | None) -> str:
        cells = [v.ljust(w) for v, w in zip(values, widths, strict=True)]
        if status is not None:
            cells[_STATUS] = paint(cells[_STATUS], status, colour)
        return (" " * _GAP).join(cells).rstrip()

    return "\n".join([line(LIST_HEADER, None)] + [line(values, s) for values, s in rows])
