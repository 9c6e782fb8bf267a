"""The AMI line protocol and the transcript format of --record / --replay."""

from __future__ import annotations

import asyncio
import io

import pytest
from tests.e2e.feeds.fake_ami import FIXTURE

from ccms.feeds.asterisk.protocol import (
    Frame,
    FrameReader,
    ProtocolError,
    format_action,
    parse_frame,
)
from ccms.feeds.asterisk.transcript import Recorder, TranscriptError, read_entries, read_transcript

pytestmark = pytest.mark.unit


def test_a_frame_keeps_its_fields_in_order_and_empty_values() -> None:
    frame = parse_frame(
        "Event: QueueMemberStatus\r\nQueue: sales\r\nPausedReason: \r\nLastCall: 0\r\n\r\n"
    )
    assert frame.event == "QueueMemberStatus"
    assert frame.pairs == [("Event", "QueueMemberStatus"), ("Queue", "sales"),
                           ("PausedReason", ""), ("LastCall", "0")]  # fmt: skip
    assert frame.get("Missing") == "" and "Queue" in frame


def test_a_value_may_hold_colons_and_a_line_without_one_is_kept() -> None:
    frame = parse_frame("Response: Success\nOutput: Changing 1002 to UNAVAILABLE: now\nraw text")
    assert frame["Output"] == "Changing 1002 to UNAVAILABLE: now"
    assert frame.pairs[-1] == ("", "raw text")


def test_an_action_is_one_frame_and_refuses_a_line_break() -> None:
    data = format_action("Login", "a1", {"Username": "ccms", "Secret": "pw"})
    assert data == b"Action: Login\r\nActionID: a1\r\nUsername: ccms\r\nSecret: pw\r\n\r\n"
    with pytest.raises(ValueError, match="line break"):
        format_action("Login", "a1", {"Username": "ccms\r\nAction: Originate"})


def read_all(data: bytes) -> tuple[str, list[Frame], BaseException | None]:
    async def go() -> tuple[str, list[Frame], BaseException | None]:
        stream = asyncio.StreamReader()
        stream.feed_data(data)
        stream.feed_eof()
        reader = FrameReader(stream)
        banner = await reader.banner()
        frames: list[Frame] = []
        try:
            while True:
                frames.append(await reader.frame())
        except asyncio.IncompleteReadError as exc:
            return banner, frames, exc

    return asyncio.run(go())


def test_a_socket_closed_in_the_middle_of_a_frame_drops_that_frame() -> None:
    banner, frames, end = read_all(
        b"Asterisk Call Manager/11.0.0\r\nEvent: A\r\nX: 1\r\n\r\nEvent: B\r\nX: "
    )
    assert banner == "Asterisk Call Manager/11.0.0"
    assert [f.event for f in frames] == ["A"]
    assert isinstance(end, asyncio.IncompleteReadError) and end.partial == b"Event: B\r\nX: "


def test_a_stream_that_is_not_ami_is_refused() -> None:
    with pytest.raises(ProtocolError, match="not an Asterisk Manager Interface"):
        read_all(b"HTTP/1.1 400 Bad Request\r\n\r\n")


def test_the_fixture_reads_as_entries() -> None:
    entries = read_transcript(FIXTURE)
    kinds = [e.kind for e in entries]
    assert kinds[0] == "banner" and kinds[-1] == "eof"
    assert entries[0].text == "Asterisk Call Manager/11.0.0"
    login = entries[1]
    assert login.kind == "sent" and login.frame is not None
    assert login.frame.get("Action") == "Login" and login.frame.get("Events") == "on"
    assert (
        sum(1 for e in entries if e.frame is not None and e.frame.event == "QueueMemberStatus")
        == 14
    )
    assert entries[-1].t == pytest.approx(42.03)


def test_a_recording_reads_back_as_it_was_written_without_its_secret() -> None:
    ticks = iter([0.0, 0.0, 0.5, 1.25, 2.0])
    out = io.StringIO()
    recorder = Recorder(out, clock=lambda: next(ticks))
    recorder.banner("Asterisk Call Manager/11.0.0")
    recorder.sent([("Action", "Login"), ("ActionID", "ccms-1"), ("Secret", "hunter2")])
    frame = Frame([("Event", "QueueMemberStatus"), ("PausedReason", ""), ("Status", "6")])
    recorder.frame(frame)
    recorder.eof()
    text = out.getvalue()
    assert "hunter2" not in text and "Secret: ********" in text
    entries = list(read_entries(text.splitlines(keepends=True)))
    assert [(e.t, e.kind) for e in entries] == [(0.0, "banner"), (0.5, "sent"), (1.25, "frame"),
                                                (2.0, "eof")]  # fmt: skip
    assert entries[2].frame == frame


def test_a_file_that_is_not_a_transcript_says_where() -> None:
    with pytest.raises(TranscriptError, match="line 1: expected"):
        list(read_entries(["Event: X\n"], "bug.txt"))
