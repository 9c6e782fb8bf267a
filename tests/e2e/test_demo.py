"""``ccms demo`` as a newcomer meets it: its refusals, its banner, the docs' demo commands."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.conftest import Demo, ccms_on_path, run_as_typed

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def snapshot(*paths: Path) -> dict[Path, tuple[bytes, int, int]]:
    """Bytes, inode and modification time of each file: what must not change."""
    return {p: (p.read_bytes(), p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


def test_a_second_demo_refuses_and_leaves_the_running_one_untouched(demo_factory: Any) -> None:
    first: Demo = demo_factory().start()
    files = snapshot(first.data / "credentials.toml", first.profile)
    store = (first.data / "demo.db").stat().st_ino

    second = demo_factory(port=first.port, data=first.data).run()

    assert second.returncode == 1, second.stderr
    assert second.stderr == (
        f"ccms: a ccms demo is already running on 127.0.0.1:{first.port}"
        f" (data in {first.data}, pid {first.proc.pid})\n"  # type: ignore[union-attr]
    )
    assert second.stdout == ""
    assert snapshot(*files) == files
    assert (first.data / "demo.db").stat().st_ino == store
    with first.client() as client:
        assert client.agent_detail(1, 1, 101).signed_in
    assert first.stop() == 0


def test_a_demo_on_a_busy_port_refuses_before_touching_anything(
    demo_factory: Any, tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        demo: Demo = demo_factory(port=port)
        result = demo.run()

    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        f"ccms: cannot listen on 127.0.0.1:{port}: the address is in use (give --port another"
        " port, or stop what listens there)\n"
    )
    assert not demo.data.exists()
    assert not demo.profile.exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--agents", "0"), "ccms: agents must be an integer from 1 to 119798, got 0\n"),
        (("--vdns", "100"), "ccms: vdns must be an integer from 1 to 99, got 100\n"),
        (("--speed", "0"), "ccms: --speed must be positive, got 0\n"),
        (("--port", "70000"), "ccms: port must be 1..65535, got 70000\n"),
    ],
)
def test_a_demo_with_bad_arguments_changes_nothing(
    demo_factory: Any, arguments: tuple[str, ...], message: str
) -> None:
    earlier: Demo = demo_factory().start()  # a demo that ran before, with its profile
    assert earlier.stop() == 0
    files = snapshot(earlier.profile, earlier.data / "credentials.toml", earlier.data / "demo.db")
    command = demo_factory(data=earlier.data, port=earlier.port)
    command.extra = arguments

    result = command.run()

    assert result.returncode == 2, result.stderr
    assert result.stderr == message
    assert snapshot(*files) == files


def commands_of(banner: str) -> list[str]:
    """The shell commands the banner suggests, each with its continuation lines."""
    text = banner.split("Try, in another terminal:\n", 1)[1].split("\n\n", 1)[0]
    commands, current = [], ""
    for line in text.splitlines():
        current = f"{current}\n{line}" if current else line.strip()
        if not current.endswith("\\"):
            commands.append(current)
            current = ""
    return commands


def test_the_banners_commands_work_as_printed(demo_factory: Any, tmp_path: Path) -> None:
    demo: Demo = demo_factory().start()
    commands = commands_of(demo.banner())

    assert [c.split()[1] for c in commands[:2]] == ["agent", "watch"]
    assert commands[0].endswith(" agent 1 1 101 --profile demo")  # the agent the docs name
    for line in commands:
        code, output = run_as_typed(line, tmp_path, demo.env, until="Agent 101")
        assert code == 0, (line, output)
        assert "Traceback" not in output
        assert output.strip(), line
    assert demo.stop() == 0


@pytest.mark.parametrize("on_path", [True, False])
def test_the_banner_names_the_demos_own_ccms(demo_factory: Any, on_path: bool) -> None:
    scripts = Path(sys.executable).parent  # where this installation's ccms script is
    demo: Demo = demo_factory()
    others = [d for d in demo.env["PATH"].split(os.pathsep) if Path(d) != scripts]
    demo.env["PATH"] = os.pathsep.join([str(scripts), *others] if on_path else others)
    demo.start()

    agent, watch = commands_of(demo.banner())[:2]
    expected = "ccms" if on_path else str(scripts / "ccms")
    assert agent.startswith(f"{expected} agent ")
    assert watch.startswith(f"{expected} watch ")


def test_without_a_profile_the_banners_commands_carry_the_key(
    demo_factory: Any, tmp_path: Path
) -> None:
    demo: Demo = demo_factory("--no-profile").start()

    commands = commands_of(demo.banner())
    assert not demo.profile.exists()
    assert all("--profile" not in c and "profile=" not in c for c in commands)
    code, output = run_as_typed(commands[0], tmp_path, demo.env, until="")
    assert code == 0, output
    assert output.startswith("Agent 101  ")


# The demo commands of docs/client.md, run as written against a real demo.

CLIENT_DOCS = ROOT / "docs" / "client.md"


def console_session(markdown: Path, heading: str) -> list[tuple[str, list[str]]]:
    """The ``$ command`` lines of the first console block after ``heading``, each with the
    sample output printed under it."""
    section = markdown.read_text(encoding="utf-8").split(heading, 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    session: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            session.append((line[2:], []))
        else:
            session[-1][1].append(line)
    return session


def label(line: str) -> str:
    """What a panel line says before its value (``  status      talking`` -> ``status``)."""
    return re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]


VARYING = {"citStatus", "loginDate", "currentStateTime", "status"}  # the floor moves


def test_the_client_docs_demo_session_runs_against_the_demo(
    demo_factory: Any, tmp_path: Path
) -> None:
    demo: Demo = demo_factory().start()
    env = {**demo.env, **ccms_on_path(tmp_path / "bin")}
    session = console_session(CLIENT_DOCS, "## Try it against `ccms demo`")

    assert len(session) >= 4
    for line, sample in session:
        command = line.split("  #", 1)[0]
        code, output = run_as_typed(command, tmp_path, env, until="Agent 101")
        assert code == 0, (line, output)
        if command.startswith("ccms agent") and "--json" in command:
            expected = sample[0].replace(",...}", "}")
            shown, answer = json.loads(expected), json.loads(output)
            assert set(shown) <= set(answer)
            assert {k: v for k, v in shown.items() if k not in VARYING} == {
                k: answer[k] for k in shown if k not in VARYING
            }
        elif command.startswith("ccms agent"):
            assert [label(s) for s in sample] == [label(o) for o in output.splitlines()]
            assert output.splitlines()[0] == sample[0]  # the title: work number and name


def test_the_client_docs_python_example_runs_against_the_demo(demo_factory: Any) -> None:
    demo: Demo = demo_factory().start()
    text = CLIENT_DOCS.read_text(encoding="utf-8")
    example = text.split("<!-- example: client-demo -->", 1)[1]
    code = example.split("```python\n", 1)[1].split("```", 1)[0]

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=demo.tmp, env=demo.env, capture_output=True,
        text=True, timeout=30, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["Hello world!", "IngestResult(accepted=1, duplicates=0)"]
    assert lines[2].startswith("Doc Example IDLE ")
    assert lines[3].startswith("0100001 agent 4712 is not known")


def test_the_demo_flags_with_the_documented_defaults_and_reads_its_file_on_sighup(
    demo_factory: Any,
) -> None:
    demo: Demo = demo_factory().start()
    flags_file = demo.data / "flags.toml"
    assert flags_file.is_file()  # written by the demo: the defaults, for the user to edit
    now = int(time.time() * 1000)
    with demo.client() as client:
        client.post_events([{"eventId": "phone-down", "ccId": 1, "vdn": 1, "agentId": 59990,
                             "at": now, "ctiStatus": 7, "reason": 5, "skills": [1]}])  # fmt: skip
        flags = client.agent_history(1, 1, 59990).agent.flags
        assert [(f.name, f.level, f.since) for f in flags] == [("phone-unavailable", "alert", now)]
        flags_file.write_text("enabled = { phone-unavailable = false }\n", encoding="utf-8")
        assert demo.proc is not None
        demo.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while client.agent_history(1, 1, 59990).agent.flags and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.agent_history(1, 1, 59990).agent.flags == ()
    assert demo.stop() == 0


def test_the_demo_floor_has_calls_with_queue_figures(demo_factory: Any) -> None:
    """The simulated calls reach the call routes: records of the day (``vdn/querycalls``)
    and the current 5 minutes of the skill queues (``skill/currentcallstateinfo``)."""
    demo: Demo = demo_factory("--speed", "30").start()
    # yesterday and today (the two days kept): the warm-up may straddle midnight UTC
    day = int(time.time() * 1000) // 86_400_000 * 86_400_000
    skills = [101, 102, 103, 104]
    with demo.client() as client:
        page = client.vdn_calls(1, 1, day - 86_400_000, day + 86_399_999, call_in=True)
        assert page.count > 20  # the warm-up's calls, ended
        record = page.records[0]
        assert record.call_id.split("-")[0].isdigit() and record.callee_no == "650501"
        answered = [r for r in page.records if r.call_begin is not None]
        assert answered and all(r.wait_begin is not None for r in answered)
        deadline = time.monotonic() + 30
        counts = client.skill_call_counts(1, 1, skills)
        # a window may just have begun: wait for its calls and an answer (speed 30: seconds)
        while (sum(c.calls for c in counts) < 3 or not sum(c.connected for c in counts)) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.5)
            counts = client.skill_call_counts(1, 1, skills)
        assert [c.skill_id for c in counts] == skills
        assert sum(c.calls for c in counts) >= 3  # calls entered the queues just now
        assert sum(c.connected for c in counts) >= 1
        assert all(c.connected_in_20s <= c.connected for c in counts)
    assert demo.stop() == 0
