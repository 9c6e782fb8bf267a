"""Text for people of ``ccms agent --why``: one agent, why ccms believes its state, and its
newest status events. Pure functions of their inputs (time zone included)."""

from __future__ import annotations

from datetime import tzinfo

from ccms.client.agents import AgentFlag, AgentHistory, StatusEvent
from ccms.client.display import (
    STATUS_WORDS,
    _moment,
    cti_text,
    duration,
    paint,
    plural,
    sign_in_time,
)

HISTORY_HEADER = ("AT", "CTI STATUS", "REASON", "APPLIED", "SOURCE", "EVENT", "RAW STATE")


def moment_text(ms: int, tz: tzinfo | None = None) -> str:
    """``2026-05-04 10:15:02.500``: a moment in local time (or ``tz``), to the millisecond."""
    moment = _moment(ms, tz)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _raw(raw_state: str | None) -> str:
    """A raw state as sent (the intake refuses control characters); ``""`` when empty."""
    return "-" if raw_state is None else raw_state or '""'


def _flag_text(flag: AgentFlag, tz: tzinfo | None) -> str:
    return f"{flag.name} ({flag.level} since {moment_text(flag.since, tz)})"


def why_panel(
    found: AgentHistory, cc_id: int, vdn: int, *, colour: bool, tz: tzinfo | None = None
) -> str:
    """The agent as ``ccms agent --why`` shows it, then its history, newest first."""
    agent = found.agent
    cti = cti_text(agent.cti_status)
    if agent.reason is not None:
        cti += f", reason {agent.reason}"
    flags = ", ".join(_flag_text(flag, tz) for flag in agent.flags)
    rows = [
        ("status", paint(STATUS_WORDS[agent.status], agent.status, colour)),
        ("CTI status", cti),
        ("in state", f"{duration(agent.seconds_in_state)} (since {moment_text(agent.since, tz)})"),
        ("signed in", sign_in_time(found.login_date, tz)),
        ("phone", found.phone_number or "-"),
        ("media type", str(found.media_type)),
        ("skills", ", ".join(str(skill) for skill in agent.skills) or "-"),
        ("calls", ", ".join(agent.calls) or "-"),
        ("flags", flags or "-"),
        ("source", found.source or "-"),
        ("raw state", _raw(found.raw_state)),
    ]
    lines = [f"Agent {agent.work_no}  {agent.name or '(no name)'}",
             f"  call center {cc_id}, VDN {vdn}"]  # fmt: skip
    lines += [f"  {label:<12}{value}" for label, value in rows]
    lines += ["", history_table(found.history, tz)]
    return "\n".join(lines)


def _cells(event: StatusEvent, tz: tzinfo | None) -> tuple[str, ...]:
    return (
        moment_text(event.at, tz), cti_text(event.cti_status),
        "-" if event.reason is None else str(event.reason),
        "yes" if event.applied else "no (older)", event.source or "-", event.event_id,
        _raw(event.raw_state),
    )  # fmt: skip


def history_table(history: tuple[StatusEvent, ...], tz: tzinfo | None = None) -> str:
    """The status events, newest first; ``APPLIED`` ``no (older)`` for an event that came
    older than the status it found and changed nothing but the history."""
    if not history:
        return "no status events kept"
    cells = [_cells(event, tz) for event in history]
    widths = [len(title) for title in HISTORY_HEADER]
    for values in cells:
        widths = [max(w, len(value)) for w, value in zip(widths, values, strict=True)]
    title = f"History, newest first ({plural(len(history), 'status event')}):"
    lines = [title]
    for values in [HISTORY_HEADER, *cells]:
        padded = [value.ljust(width) for value, width in zip(values, widths, strict=True)]
        lines.append("  " + "  ".join(padded).rstrip())
    return "\n".join(lines)
