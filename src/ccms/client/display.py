"""Text for people: agent statuses in words and colours, durations, the agent panel and
the ``watch`` table. Pure functions of their inputs (time zone and "now" included)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

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
    """One agent of ``watch``: its detail, or the error its query gave."""

    work_no: int
    agent: AgentDetail | None = None
    error: str | None = None

    def sort_key(self) -> tuple[int, int, int]:
        if self.agent is None:
            return (len(STATUS_ORDER), 0, self.work_no)
        rank = _RANK.get(self.agent.status, len(STATUS_ORDER) - 1)
        return (rank, -self.agent.current_state_time, self.work_no)


def _short_time(login_date: int | None, now_ms: int, tz: tzinfo | None) -> str:
    if login_date is None:
        return "-"
    moment = _moment(login_date, tz)
    if moment.date() == _moment(now_ms, tz).date():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%Y-%m-%d %H:%M")


def watch_table(
    rows: Sequence[WatchRow], *, now_ms: int, colour: bool, tz: tzinfo | None = None
) -> str:
    """The ``watch`` table, sorted by status (talking first), then longest in state."""
    header = ("AGENT", "NAME", "STATUS", "CTI", "IN STATE", "SIGNED IN")
    cells: list[tuple[tuple[str, ...], AgentStatus | None]] = []
    for row in sorted(rows, key=WatchRow.sort_key):
        agent = row.agent
        if agent is None:
            cells.append(((str(row.work_no), "-", "error", row.error or "", "", ""), None))
            continue
        cells.append((
            (
                str(agent.work_no), agent.name or "-", STATUS_WORDS[agent.status],
                cti_text(agent.cti_status), duration(agent.current_state_time),
                _short_time(agent.login_date, now_ms, tz),
            ),
            agent.status,
        ))  # fmt: skip
    widths = [len(title) for title in header]
    for values, _ in cells:
        widths = [max(width, len(value)) for width, value in zip(widths, values, strict=True)]
    last = len(header) - 1

    def line(values: tuple[str, ...], status: AgentStatus | None) -> str:
        parts = []
        for index, (value, width) in enumerate(zip(values, widths, strict=True)):
            pad = "" if index == last else " " * (width - len(value))
            if index == 2 and status is not None:
                value = paint(value, status, colour)
            parts.append(value + pad)
        return "  ".join(parts).rstrip()

    return "\n".join([line(header, None)] + [line(values, status) for values, status in cells])
