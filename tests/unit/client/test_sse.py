"""The SSE parser: the standard's examples, its edge cases, and that how the bytes are split
never changes what is parsed (Hypothesis, against a whole-stream reference reading)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccms.client.sse import Bookmark, Comment, Event, Retry, SSEError, SSEItem, SSEParser

pytestmark = pytest.mark.unit


def parse(*chunks: bytes) -> list[SSEItem]:
    parser = SSEParser()
    items: list[SSEItem] = []
    for chunk in chunks:
        items += parser.feed(chunk)
    parser.close()
    return items


def reference(stream: bytes) -> list[SSEItem]:
    """The standard's algorithm over the whole stream at once, decoded first."""
    text = stream.decode("utf-8", "replace")
    text = text.removeprefix("\ufeff")
    lines = re.split(r"\r\n|\r|\n", text)
    lines.pop()  # what follows the last line end is an incomplete line: dropped
    items: list[SSEItem] = []
    kind, data, last_id, id_seen = "", "", "", False
    for line in lines:
        if line == "":
            if data:
                items.append(Event(kind or "message", data.removesuffix("\n"), last_id))
            elif id_seen:
                items.append(Bookmark(last_id))
            kind, data, id_seen = "", "", False
            continue
        if line.startswith(":"):
            items.append(Comment(line[1:]))
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data += value + "\n"
        elif name == "event":
            kind = value
        elif name == "id" and "\x00" not in value:
            last_id, id_seen = value, True
        elif name == "retry" and re.fullmatch(r"[0-9]+", value):
            items.append(Retry(int(value)))
    return items


def test_the_stream_of_a_ccms_subscriber() -> None:
    stream = (
        b"retry: 2000\n\n"
        b'event: snapshot\ndata: {"seq":7,"part":1,"parts":2}\n\n'
        b'event: snapshot\nid: 7\ndata: {"seq":7,"part":2,"parts":2}\n\n'
        b": hb\n\n"
        b'event: change\nid: 9\ndata: {"seq":9}\n\n'
        b"id: 12\n\n"
    )
    assert parse(stream) == [
        Retry(2000),
        Event("snapshot", '{"seq":7,"part":1,"parts":2}', ""),
        Event("snapshot", '{"seq":7,"part":2,"parts":2}', "7"),
        Comment(" hb"),
        Event("change", '{"seq":9}', "9"),
        Bookmark("12"),
    ]


def test_the_standards_examples() -> None:
    # "data:test" and "data: test" are the same; "data" alone is an empty line of data.
    assert parse(b"data\n\ndata\ndata\n\ndata:\n") == [Event("message", "", ""),
                                                       Event("message", "\n", "")]  # fmt: skip
    assert parse(b"data:test\n\ndata: test\n\n") == [Event("message", "test", "")] * 2
    assert parse(b"data: YHOO\ndata: +2\ndata: 10\n\n") == [Event("message", "YHOO\n+2\n10", "")]
    assert parse(b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n") == [
        Comment(" test stream"),
        Event("message", "first event", "1"),
        Event("message", "second event", ""),  # an empty id resets the last event id
    ]


@pytest.mark.parametrize("end", [b"\n", b"\r", b"\r\n"])
def test_every_line_ending(end: bytes) -> None:
    stream = end.join([b"event: change", b"id: 3", b"data: x", b"", b""])
    assert parse(stream) == [Event("change", "x", "3")]


def test_a_crlf_split_between_two_chunks_is_one_line_end() -> None:
    assert parse(b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n") == [Event("message", "a\nb", "")]
    # a CR then a separate LF in the next chunk that follows a complete CRLF: a blank line
    assert parse(b"data: a\r\n", b"\r\n") == [Event("message", "a", "")]


def test_the_last_event_id_survives_blocks_and_ignores_nul() -> None:
    assert parse(b"id: 5\ndata: a\n\ndata: b\n\nid: 6\x007\ndata: c\n\n") == [
        Event("message", "a", "5"),
        Event("message", "b", "5"),
        Event("message", "c", "5"),
    ]


def test_fields_that_are_not_the_standards_are_ignored() -> None:
    assert parse(b"retry: 1.5\nretry: x\nretry:\nfoo: bar\nevent: e\n\n") == []
    assert parse(b"retry:300\n") == [Retry(300)]


def test_a_byte_order_mark_is_skipped_only_at_the_start() -> None:
    assert parse(b"\xef\xbb", b"\xbfdata: a\n\n") == [Event("message", "a", "")]
    assert parse(b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n") == []  # the second is part of a name
    assert parse(b"data: \xef\xbb\xbfa\n\n") == [Event("message", "\ufeffa", "")]


def test_invalid_utf8_reads_as_the_replacement_character() -> None:
    assert parse(b"data: \xff\xe2\n\n") == [Event("message", "\ufffd\ufffd", "")]


def test_an_incomplete_block_at_the_end_is_dropped() -> None:
    assert parse(b"data: a\n\ndata: b\n") == [Event("message", "a", "")]
    parser = SSEParser()
    assert parser.feed(b"data: b\nid: 4\n") == []
    parser.close()
    assert parser.feed(b"data: c\n\n") == [Event("message", "c", "4")]


def test_a_line_longer_than_the_limit_is_refused() -> None:
    parser = SSEParser(max_line=64)
    parser.feed(b"data: " + b"x" * 50)
    with pytest.raises(SSEError, match="longer than 64 bytes"):
        parser.feed(b"y" * 20)
    many = SSEParser(max_line=64)
    with pytest.raises(SSEError, match="data is longer"):
        many.feed(b"data: 0123456789\n" * 5)


# -- properties ----------------------------------------------------------------------------

field_lines = st.one_of(
    st.sampled_from([b"", b"", b"data", b"data:", b"id", b"id:", b"retry: 15", b": hb", b":"]),
    st.builds(
        lambda name, space, value: name + b":" + space + value,
        st.sampled_from([b"data", b"event", b"id", b"retry", b"other", b""]),
        st.sampled_from([b"", b" ", b"  "]),
        st.one_of(
            st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=12).map(
                str.encode
            ),
            st.binary(max_size=8).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
            st.integers(0, 99999).map(lambda n: str(n).encode()),
        ),
    ),
)
streams = st.builds(
    lambda bom, lines, ends: (
        bom + b"".join(line + end for line, end in zip(lines, ends, strict=False))
    ),
    st.sampled_from([b"", b"\xef\xbb\xbf"]),
    st.lists(field_lines, max_size=30),
    st.lists(st.sampled_from([b"\n", b"\r", b"\r\n"]), min_size=30, max_size=30),
)


def split(stream: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(stream)) for cut in cuts})
    pieces, last = [], 0
    for point in points:
        pieces.append(stream[last:point])
        last = point
    return [*pieces, stream[last:]]


@given(streams, st.lists(st.integers(0, 400), max_size=12))
def test_any_split_parses_as_the_whole_stream_read_at_once(stream: bytes, cuts: list[int]) -> None:
    assert parse(*split(stream, cuts)) == reference(stream)


@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=10))
def test_arbitrary_bytes_split_anywhere_parse_alike(stream: bytes, cuts: list[int]) -> None:
    assert parse(*split(stream, cuts)) == reference(stream)


@given(streams)
def test_byte_by_byte_is_the_same_as_all_at_once(stream: bytes) -> None:
    assert parse(*(stream[i : i + 1] for i in range(len(stream)))) == parse(stream)
