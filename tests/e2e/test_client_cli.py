"""End to end: a real ``ccms serve`` process over HTTPS (self-signed certificate, trusted
through a CA bundle), reached by the client library and by the client commands.

The commands run in-process through ``ccms.cli.main``, the ``ccms`` command's own parser and
dispatch; their profile is written with ``write_profile``.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from ccms.cli import build_parser, main
from ccms.cli.watch import CLEAR, Screen, watch
from ccms.client import (
    AgentNotFoundError,
    AgentStatus,
    AsyncClient,
    Client,
    CtiStatus,
    IngestResult,
    TransportError,
    write_profile,
)
from ccms.client.display import sign_in_time
from ccms.client.why import moment_text

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SK = "QhVPnuc8fRL-2SkKTkDmh_3X_Ovms3Os"
CREDENTIALS = f"""
[[access_key]]
ak = "admin"
sk = "{SK}"
roles = ["admin"]
"""
START_DEADLINE_S = 30.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@dataclass(frozen=True)
class Served:
    url: str
    ca: Path
    folder: Path
    login_ms: int  # agent 101 signed in then; talking since login + 275 s

    def client(self, **options: Any) -> Client:
        return Client(self.url, "admin", SK, verify=str(self.ca), **options)


def _wait_until_up(url: str, ca: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_DEADLINE_S
    with httpx.Client(verify=ssl.create_default_context(cafile=str(ca))) as http:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"ccms serve exited: {log.read_text()}")
            try:
                if http.get(f"{url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"ccms serve did not answer within {START_DEADLINE_S}s")
            time.sleep(0.05)  # polling /healthz, with a deadline


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("ccms-e2e")
    cert, key = _certificate(folder)
    credentials = folder / "creds.toml"
    credentials.write_text(CREDENTIALS, encoding="utf-8")
    credentials.chmod(0o600)  # a file of secrets: the server refuses one others may read
    port = _free_port()
    url = f"https://127.0.0.1:{port}"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    log = folder / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from ccms.cli import main; import sys; sys.exit(main())",
             "serve", "--host", "127.0.0.1", "--port", str(port),
             "--store", f"sqlite:///{folder / 'ccms.db'}", "--credentials", str(credentials),
             "--tls-cert", str(cert), "--tls-key", str(key), "--log-level", "warning"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=folder,
        )  # fmt: skip
    try:
        _wait_until_up(url, cert, process, log)
        now = int(time.time() * 1000)
        served = Served(url, cert, folder, login_ms=now - 4_000_000)
        with served.client() as cms:
            cms.post_events(_seed(now))
        yield served
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _seed(now: int) -> list[dict[str, Any]]:
    def event(n: str, work_no: int, ago_s: int, status: int, **extra: Any) -> dict[str, Any]:
        return {"eventId": f"seed-{n}", "ccId": 1, "vdn": 1, "agentId": work_no,
                "at": now - ago_s * 1000, "ctiStatus": status, **extra}  # fmt: skip

    return [
        event("1", 101, 4000, 1, name="Ann Lee", phoneNumber="+4930123456", mediaType=5),
        event("2", 101, 3725, 5, source="test-feed", rawState="q1: Status=2 InCall=1"),
        event("3", 102, 7300, 1, name="Bo Chen"),
        event("4", 103, 9000, 1, name="Cy Diaz"),
        event("5", 103, 600, 0),
    ]


# -- the library over HTTPS ------------------------------------------------------------


def test_client_over_https_with_a_ca_bundle(served: Served) -> None:
    with served.client() as cms:
        assert cms.ping("over TLS") == "over TLS"
        agent = cms.agent_detail(1, 1, 101)
        legacy = cms.agent_detail_legacy(1, 1, 101)

    assert (agent.work_no, agent.vdn_id, agent.name) == (101, 1, "Ann Lee")
    assert agent.cti_status is CtiStatus.TALKING
    assert agent.status is AgentStatus.TALKING
    assert agent.login_date == served.login_ms
    assert 3725 <= agent.current_state_time < 3725 + 60
    assert (agent.phone_number, agent.media_type) == ("+4930123456", 5)
    assert legacy.work_no == 101 and legacy.login_date == served.login_ms


def test_async_client_over_https(served: Served) -> None:
    async def main() -> tuple[IngestResult, bool]:
        async with AsyncClient(served.url, "admin", SK, verify=str(served.ca)) as cms:
            again = await cms.post_events(_seed(int(time.time() * 1000))[:1])  # seen: duplicate
            agent = await cms.agent_detail(1, 1, 103)
            return again, agent.signed_in

    assert anyio.run(main) == (IngestResult(accepted=0, duplicates=1), False)


def test_untrusted_certificate_is_a_transport_error_not_retried(served: Served) -> None:
    waits: list[float] = []
    with Client(served.url, "admin", SK, sleep=waits.append) as cms:  # system CAs only
        with pytest.raises(TransportError) as caught:
            cms.ping("x")

    assert caught.value.retryable is False
    assert "CERTIFICATE_VERIFY_FAILED" in caught.value.message
    assert waits == []


# -- the commands ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def environ(served: Served) -> dict[str, str]:
    profile = served.folder / "client.toml"
    write_profile("default", served.url, "admin", SK, profile, ca_bundle=str(served.ca))
    return {"CCMS_CLIENT_CONFIG": str(profile), "HOME": str(served.folder)}


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@pytest.fixture
def ccms(capsys: pytest.CaptureFixture[str], environ: dict[str, str]) -> Any:
    def call(*argv: str, env: Mapping[str, str] | None = None) -> Outcome:
        code = main(argv, environ if env is None else env)
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return call


def test_agent_panel(ccms: Any, served: Served) -> None:
    result = ccms("agent", "1", "1", "101")

    assert result.code == 0
    assert result.err == ""
    assert result.out.splitlines() == [
        "Agent 101  Ann Lee",
        "  call center 1, VDN 1",
        "  status      talking",
        "  CTI status  5 talking",
        "  in state    1h 02m",
        f"  signed in   {sign_in_time(served.login_ms)}",
        "  phone       +4930123456",
        "  media type  5",
    ]


def test_agent_panel_is_coloured_on_a_terminal_unless_no_color(
    ccms: Any, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)

    assert "\x1b[90msigned out\x1b[0m" in ccms("agent", "1", "1", "103").out
    assert "\x1b" not in ccms("agent", "1", "1", "103", env={**environ, "NO_COLOR": "1"}).out


def test_agent_json_prints_the_result_desc(ccms: Any, served: Served) -> None:
    current = ccms("agent", "1", "1", "101", "--json")
    legacy = ccms("agent", "1", "1", "101", "--json", "--legacy")

    assert current.code == legacy.code == 0
    data = json.loads(current.out)
    assert (data["workNo"], data["citStatus"], data["status"]) == (101, 5, 7)
    assert data["loginDate"] == served.login_ms
    assert json.loads(legacy.out)["workno"] == 101


def test_agent_why_shows_the_cause_and_the_history(ccms: Any, served: Served) -> None:
    result = ccms("agent", "1", "1", "101", "--why")

    assert (result.code, result.err) == (0, "")
    lines = result.out.splitlines()
    talking_since = moment_text(served.login_ms + 275_000)
    assert lines[:13] == [
        "Agent 101  Ann Lee",
        "  call center 1, VDN 1",
        "  status      talking",
        "  CTI status  5 talking",
        f"  in state    1h 02m (since {talking_since})",
        f"  signed in   {sign_in_time(served.login_ms)}",
        "  phone       +4930123456",
        "  media type  5",
        "  skills      -",
        "  calls       -",
        "  flags       -",
        "  source      test-feed",
        "  raw state   q1: Status=2 InCall=1",
    ]
    assert lines[14] == "History, newest first (2 status events):"
    assert lines[15].split() == ["AT", "CTI", "STATUS", "REASON", "APPLIED", "SOURCE", "EVENT",
                                 "RAW", "STATE"]  # fmt: skip
    assert lines[16].split()[2:] == ["5", "talking", "-", "yes", "test-feed", "seed-2", "q1:",
                                     "Status=2", "InCall=1"]  # fmt: skip
    assert lines[17].split()[2:] == ["1", "idle", "-", "yes", "-", "seed-1", "-"]
    assert len(lines) == 18


def test_agent_why_json_and_history_limit(ccms: Any) -> None:
    whole = ccms("agent", "1", "1", "101", "--why", "--json")
    one = ccms("agent", "1", "1", "101", "--history", "1", "--json")  # --history implies --why

    assert whole.code == one.code == 0
    data = json.loads(whole.out)
    assert (data["agent"]["source"], data["agent"]["rawState"]) == (
        "test-feed", "q1: Status=2 InCall=1",
    )  # fmt: skip
    assert [h["eventId"] for h in data["history"]] == ["seed-2", "seed-1"]
    assert [h["eventId"] for h in json.loads(one.out)["history"]] == ["seed-2"]
    none = ccms("agent", "1", "1", "101", "--history", "0")
    assert none.out.splitlines()[-1] == "no status events kept"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["agent", "1", "1", "999", "--why"],
         1, "ccms: agent 999 is not known in call center 1, vdn 1 (resultCode 0100001, HTTP 200)"),
        (["agent", "1", "1", "101", "--legacy", "--history", "3"],
         2, "ccms: --history goes with --why, not with --legacy"),
        (["agent", "1", "1", "999"],
         1, "ccms: agent 999 is not known in call center 1, vdn 1 (resultCode 0100001, HTTP 200)"),
        (["agent", "0", "1", "101"],
         1, "ccms: ccId must be an integer from 1 to 65535 (resultCode 0100002, HTTP 200)"),
        (["agent", "1", "1", "101", "--sk", "wrong-secret-0123456789"],
         1, "ccms: signature does not match (resultCode 0100001, HTTP 401)"),
        (["agent", "1", "1", "101", "--ca-bundle", "/nonexistent/ca.pem"],
         2, "ccms: cannot use CA bundle /nonexistent/ca.pem"),
        (["agent", "1", "1", "101", "--profile", "prod"],
         2, "ccms: no profile 'prod' in"),
        (["watch", "1", "1", "101", "--once", "--ak", "nobody"],
         1, "ccms: unknown access key (resultCode 0100001, HTTP 401)"),
    ],
)  # fmt: skip
def test_failures_are_one_line_with_an_exit_code(
    ccms: Any, argv: list[str], code: int, message: str
) -> None:
    result = ccms(*argv)

    assert result.code == code
    assert result.out == ""
    assert result.err.startswith(message)
    assert result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_no_answer_is_exit_code_3(ccms: Any) -> None:
    closed = f"https://127.0.0.1:{_free_port()}"

    result = ccms("agent", "1", "1", "101", "--url", closed, "--retry-deadline", "0")

    assert result.code == 3
    assert result.err.startswith(f"ccms: cannot reach {closed}/rest/cmsapp/v1/openapi/agent/")


def test_environment_overrides_profile_and_flags_override_environment(
    ccms: Any, environ: dict[str, str]
) -> None:
    env = {**environ, "CCMS_AK": "nobody"}

    assert ccms("agent", "1", "1", "101", env=env).code == 1
    assert ccms("agent", "1", "1", "101", "--ak", "admin", env=env).code == 0


def test_missing_configuration_is_exit_code_2(ccms: Any, served: Served) -> None:
    result = ccms("agent", "1", "1", "101", env={"HOME": str(served.folder / "nowhere")})

    assert result.code == 2
    assert result.err.startswith("ccms: no server URL: give --url, set CCMS_URL")


def test_debug_shows_the_exception(environ: dict[str, str]) -> None:
    with pytest.raises(AgentNotFoundError):
        main(["--debug", "agent", "1", "1", "999"], environ)


def _events(first: int, count: int, vdn: int = 3) -> list[dict[str, Any]]:
    at = int(time.time() * 1000) - 60_000
    return [
        {"eventId": f"cli-{vdn}-{n}", "ccId": 1, "vdn": vdn, "agentId": 200 + n, "at": at,
         "ctiStatus": 1, "name": f"Agent {200 + n}"}
        for n in range(first, first + count)
    ]  # fmt: skip


def _ndjson(events: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e) + "\n" for e in events)


def test_events_post_ndjson_in_batches_then_resume(ccms: Any, served: Served) -> None:
    events = served.folder / "events.ndjson"
    events.write_text(_ndjson(_events(1, 5)).replace("\n", "\n\n", 1))  # a blank line is fine

    first = ccms("events", "post", str(events), "--batch", "2")
    resumed = ccms("events", "post", str(events), "--skip", "3", "--json")

    assert first.code == 0
    assert first.err.splitlines() == [
        "ccms: posted 2 events (accepted 2, duplicates 0)",
        "ccms: posted 4 events (accepted 4, duplicates 0)",
        "ccms: posted 5 events (accepted 5, duplicates 0)",
    ]
    assert first.out == "accepted 5, duplicates 0 (5 events in 3 batches, 0 skipped)\n"
    assert resumed.code == 0
    assert json.loads(resumed.out) == {
        "accepted": 0, "duplicates": 2, "posted": 2, "skipped": 3, "batches": 1
    }  # fmt: skip
    with served.client() as cms:
        assert cms.agent_detail(1, 3, 205).name == "Agent 205"


def test_events_post_json_array_from_stdin(
    ccms: Any, served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    array = json.dumps(_events(1, 3, vdn=4), indent=2).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(array)))

    result = ccms("events", "post", "-")

    assert result.code == 0
    assert result.out.startswith("accepted 3, duplicates 0 (3 events in 1 batch, 0 skipped)")
    with served.client() as cms:
        assert cms.agent_detail(1, 4, 203).cti_status is CtiStatus.IDLE


def test_events_post_bad_line_stops_with_a_resume_hint(ccms: Any, served: Served) -> None:
    events = served.folder / "broken.ndjson"
    events.write_text(_ndjson(_events(1, 2, vdn=5)) + "{not json\n" + _ndjson(_events(3, 1, 5)))

    result = ccms("events", "post", str(events), "--batch", "1")

    assert result.code == 2
    lines = result.err.splitlines()
    assert lines[-2].startswith(f"ccms: {events} line 3: not valid JSON")
    assert (
        lines[-1]
        == f"ccms: 2 events were handled, through line 2 of {events}; resume with --skip 2"
    )
    with served.client() as cms:
        assert cms.agent_detail(1, 5, 202).work_no == 202
        with pytest.raises(AgentNotFoundError):
            cms.agent_detail(1, 5, 203)


def test_events_post_rejected_batch_is_exit_code_1(ccms: Any, served: Served) -> None:
    bad = [{**_events(1, 1, vdn=6)[0], "ctiStatus": 11}]
    events = served.folder / "rejected.ndjson"
    events.write_text(_ndjson(bad))

    result = ccms("events", "post", str(events), "--skip", "0")

    assert result.code == 1
    assert result.err.startswith(
        f"ccms: {events} line 1: ctiStatus must be an integer from 0 to 10 (resultCode 0100002"
    )


def test_events_post_rejection_names_the_line_of_the_file(ccms: Any, served: Served) -> None:
    good = _events(1, 3, vdn=7)
    bad = {**_events(4, 1, vdn=7)[0], "ctiStatus": 11}
    events = served.folder / "line5.ndjson"
    events.write_text(_ndjson(good[:2]) + "\n" + _ndjson([good[2], bad]))  # line 3 is blank

    result = ccms("events", "post", str(events), "--batch", "2")

    assert result.code == 1
    lines = result.err.splitlines()
    assert lines[-2].startswith(f"ccms: {events} line 5: ctiStatus must be an integer from 0")
    assert (
        lines[-1]
        == f"ccms: 2 events were handled, through line 2 of {events}; resume with --skip 2"
    )


def test_events_post_rejection_names_the_element_of_an_array(ccms: Any, served: Served) -> None:
    bad = [*_events(1, 2, vdn=9), {**_events(3, 1, vdn=9)[0], "agentId": 5}]
    events = served.folder / "array.json"
    events.write_text(json.dumps(bad))

    result = ccms("events", "post", str(events), "--skip", "1")

    assert result.code == 1
    assert result.err.startswith(f"ccms: {events} element 2: agentId must be an integer from 101")


def test_events_post_stopped_by_ctrl_c_says_where_to_resume(
    served: Served, environ: dict[str, str]
) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), **environ}
    post = subprocess.Popen(
        [sys.executable, "-m", "ccms", "events", "post", "-", "--batch", "1"], env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert post.stdin is not None and post.stderr is not None
    post.stdin.write(_ndjson(_events(1, 2, vdn=8)) + "\n" + _ndjson(_events(3, 1, vdn=8)))
    post.stdin.flush()  # four lines, three events; the fifth line never comes
    seen = [post.stderr.readline() for _ in range(3)]
    assert seen[-1] == "ccms: posted 3 events (accepted 3, duplicates 0)\n", seen

    post.send_signal(signal.SIGINT)
    out, err = post.communicate(timeout=30)

    assert post.returncode == 130, err
    assert "Traceback" not in err
    assert err.splitlines() == [
        "ccms: stopped after line 4 of stdin (3 events handled): resume with --skip 3"
    ]
    assert out == ""


def test_the_client_commands_say_when_they_retry(ccms: Any) -> None:
    closed = f"https://127.0.0.1:{_free_port()}"

    result = ccms("agent", "1", "1", "101", "--url", closed, "--retry-deadline", "1")

    assert result.code == 3
    lines = result.err.splitlines()
    assert len(lines) >= 2, lines
    for number, line in enumerate(lines[:-1], 1):
        pattern = rf"ccms: retrying in \d+\.\ds \(retry {number}\): connection refused"
        assert re.fullmatch(pattern, line), lines
    assert lines[-1].startswith(f"ccms: cannot reach {closed}/rest/cmsapp/v1/openapi/agent/")


def test_events_post_unreadable_file_is_exit_code_2(ccms: Any, served: Served) -> None:
    result = ccms("events", "post", str(served.folder / "missing.ndjson"))

    assert (result.code, result.err.split(":")[0]) == (2, "ccms")
    assert "cannot read" in result.err


def test_watch_once_sorted_by_status(ccms: Any) -> None:
    result = ccms("watch", "1", "1", "103", "102", "101", "--once")

    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0].startswith("call center 1, VDN 1: 3 agents at ")
    assert lines[1] == "1 talking, 1 idle, 1 signed out"
    assert lines[2].split()[:3] == ["AGENT", "NAME", "STATUS"]
    assert [line.split()[0] for line in lines[3:]] == ["101", "102", "103"]
    assert "talking" in lines[3] and "1h 02m" in lines[3]
    assert "idle" in lines[4] and "2h 01m" in lines[4]
    assert "signed out" in lines[5]


def test_watch_once_shows_the_whole_vdn(ccms: Any) -> None:
    result = ccms("watch", "1", "1", "--once")

    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert re.match(r"call center 1, VDN 1: \d+ agents at ", lines[0])
    assert lines[2].split()[:3] == ["AGENT", "NAME", "STATUS"]
    rows = {line.split()[0]: line for line in lines[3:]}
    assert {"101", "102", "103"} <= set(rows)
    assert lines[3].split()[:2] == ["101", "Ann"]  # talking the longest: first


def test_watch_once_with_an_unknown_agent_is_exit_code_1(ccms: Any) -> None:
    result = ccms("watch", "1", "1", "999", "101", "--once")

    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[1] == "1 talking, 1 unknown"
    assert [row.split() for row in lines[3:]][1] == ["999", "-", "unknown"]
    assert lines[3].split()[0] == "101"


def test_watch_once_without_a_server_is_exit_code_3(ccms: Any) -> None:
    closed = f"https://127.0.0.1:{_free_port()}"

    result = ccms("watch", "1", "1", "101", "--once", "--url", closed, "--retry-deadline", "0")

    assert result.code == 3
    assert result.err.startswith("ccms: cannot reach")


def _doc_example(name: str) -> str:
    text = (ROOT / "docs" / "client.md").read_text(encoding="utf-8")
    after = text.split(f"<!-- example: {name} -->", 1)[1]
    return after.split("```python\n", 1)[1].split("```", 1)[0]


def test_docs_example_runs_against_the_server(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = served.folder / "demo-client.toml"
    write_profile("demo", served.url, "admin", SK, profile, ca_bundle=str(served.ca))
    monkeypatch.setenv("CCMS_CLIENT_CONFIG", str(profile))

    exec(compile(_doc_example("client-demo"), "docs/client.md", "exec"), {})

    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == ["Hello world!", "IngestResult(accepted=1, duplicates=0)"]
    name, status, seconds, signed_in = lines[2].rsplit(" ", 3)
    assert (name, status, signed_in) == ("Doc Example", "IDLE", "True")
    assert 65 <= int(seconds) < 65 + 60
    assert lines[3].startswith("0100001 agent 4712 is not known")


class _Stop(Exception):
    pass


def test_watch_polling_refreshes_and_survives_a_lost_server(
    served: Served, environ: dict[str, str]
) -> None:
    from ccms.client import load_config

    frames: list[str] = []
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise _Stop

    async def run(args: Any, config: Any, screen: Screen) -> int:
        return await watch(args, config, screen, frames.append, sleep=sleep)

    live = build_parser().parse_args(["watch", "1", "1", "101", "102", "--interval", "2.5",
                                      "--poll"])  # fmt: skip
    with pytest.raises(_Stop):
        anyio.run(run, live, load_config(environ), Screen(colour=True, redraw=True))
    closed = f"https://127.0.0.1:{_free_port()}"
    waits.clear()
    no_retry = build_parser().parse_args(["watch", "1", "1", "101", "102", "--interval", "2.5",
                                          "--retry-deadline", "0", "--poll"])  # fmt: skip
    config = load_config(environ, url=closed)
    with pytest.raises(_Stop):
        anyio.run(run, no_retry, config, Screen(colour=False, redraw=False))

    assert waits == [2.5, 2.5]
    assert len(frames) == 4
    assert all(frame.startswith(CLEAR + "call center 1, VDN 1") for frame in frames[:2])
    assert "(every 2.5s, Ctrl-C to stop)" in frames[0]
    assert "\x1b[36mtalking\x1b[0m" in frames[1]
    assert frames[3].startswith("call center 1, VDN 1")
    assert frames[3].splitlines()[-1].startswith(f"ccms: cannot reach {closed}")
    assert frames[3].rstrip().endswith("(retrying)")


def _route_count(served: Served, route: str) -> float:
    text = httpx.get(
        served.url + "/metrics", verify=ssl.create_default_context(cafile=served.ca)
    ).text
    pattern = rf'^ccms_requests_total\{{[^}}]*route="{re.escape(route)}"[^}}]*\}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, re.M))


def test_watch_polling_reads_states_through_the_batch_route(ccms: Any, served: Served) -> None:
    batch_before = _route_count(served, "agentgroup/agentstatusinfobyagentids")
    single_before = _route_count(served, "agent/agentbyworkno")

    result = ccms("watch", "1", "1", "101", "102", "103", "--once", "--poll")

    assert result.code == 0
    assert _route_count(served, "agentgroup/agentstatusinfobyagentids") == batch_before + 1
    # the attributes (names) are read once per agent, by single queries
    assert _route_count(served, "agent/agentbyworkno") == single_before + 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["agent", "1", "1", "101", "--history", "1001"], "must be from 0 to 1000, got 1001"),
        (["agent", "1", "1", "101", "--legacy", "--why"], "not allowed with argument"),
    ],
)
def test_agent_why_usage_errors_are_exit_code_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv, {})

    assert caught.value.code == 2
    assert message in capsys.readouterr().err
