"""The adapter's TOML file: the issue's keys, every key documented, bad input told well."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from tests.e2e.feeds.ami_oracle import CONFIG

from ccms.domain.agent import AgentKey
from ccms.feeds.asterisk.config import KEYS, load_config, parse_config
from ccms.settings import SettingsError

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[4] / "docs" / "adapters" / "asterisk.md"
SK = "Xk3-9vQ_pL2mZr8TgW4yN6hJcB1dF0sA"
ISSUE = f'''
[ami]
host = "127.0.0.1"
port = 5038
username = "ccms"
secret = "s3cr3t-ami"
[ccms]
url = "http://127.0.0.1:28080"
ak = "feed"
sk = "{SK}"
[[identity]]
match = "^Local/(?P<agentId>\\\\d{{3,5}})@"   # against Interface / StateInterface / MemberName
ccId = 1
vdn = 1
[queues.sales]
skill = 11
wrapup_s = 3
[pause_reasons]
Lunch = {{ ctiStatus = 8, reason = 4 }}
'''


def test_the_issues_example_file_is_read() -> None:
    config = parse_config(ISSUE, "ami.toml", Path("/etc/ccms"))
    assert (config.ami.host, config.ami.port, config.ami.username) == ("127.0.0.1", 5038, "ccms")
    assert config.ccms.url == "http://127.0.0.1:28080" and config.ccms.ak == "feed"
    assert config.rules.queues["sales"].skill == 11
    assert config.rules.queues["sales"].wrapup_s == 3.0
    assert config.rules.pause("Lunch").cti_status == 8 and config.rules.pause("Lunch").reason == 4
    assert config.spool_dir == Path("/etc/ccms/ami-spool")
    directory = config.directory()
    assert directory.resolve("Local/1001@agents/n", "Custom:1001", "Alice") == AgentKey(1, 1, 1001)
    assert "s3cr3t" not in repr(config) and SK not in repr(config)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("username =", "usename ="),
            r"ami.toml line 5: unknown key 'usename' in \[ami\] \(did you mean 'username'\?\)",
        ),
        (
            ("[queues.sales]", "[queue.sales]"),
            r"unknown section 'queue' \(did you mean 'queues'\?\)",
        ),
        (
            ("wrapup_s = 3", "wrapup = 3"),
            r"line 17: unknown key 'wrapup' in \[queues.sales\] \(did you mean 'wrapup_s'\?\)",
        ),
        (('secret = "s3cr3t-ami"', 'secret = "..."'), r"\[ami\] secret is a placeholder"),
        (("skill = 11", "skill = 0"), r"skill must be a skill-queue id 1..10000"),
        (
            ("ccId = 1", "ccid = 1"),
            r"unknown key 'ccid' in \[\[identity\]\] #1 \(did you mean 'ccId'\?\)",
        ),
        (("(?P<agentId>", "(?P<agent>"), r"needs agentId, or a named group"),
        (("port = 5038", "port = 70000"), r"port must be an integer from 1 to 65535"),
        (("reason = 4", "reason = -1"), r"needs ctiStatus 0..10"),
        (("ccId = 1", 'ccId = 1\non = ["Channel"]'), r"on must list some of"),
    ],
)
def test_bad_files_are_refused_with_the_line_and_the_key_meant(
    change: tuple[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        parse_config(ISSUE.replace(*change, 1), "ami.toml")


def test_a_file_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ami.toml"
    path.write_text(ISSUE)
    path.chmod(0o644)
    with pytest.raises(SettingsError, match="others may read it: chmod 600"):
        load_config(path)
    path.chmod(0o600)
    assert load_config(path).spool_dir == tmp_path / "ami-spool"


def test_the_test_config_is_a_valid_file() -> None:
    text = CONFIG.format(ami_port=5038, ping_s=1, resync_s=2, url="http://127.0.0.1:1", ak="a",
                         sk=SK, listen_port=1, spool="s")  # fmt: skip
    assert parse_config(text).ami.resync_interval_s == 2.0


def test_every_key_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for section, keys in KEYS.items():
        assert f"[{section}]" in text, section
        for key in keys:
            assert re.search(rf"`{key}`", text), f"[{section}] {key} is not in {DOCS.name}"
    for key in ("match", "on", "skill", "wrapup_s", "ctiStatus", "reason", "agentId"):
        assert f"`{key}`" in text


def test_unmapped_members_are_counted_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    text = ISSUE + '\n[agents."PJSIP/ann"]\nccId = 2\nvdn = 3\nagentId = 4001\n'
    directory = parse_config(text).directory()
    assert directory.resolve("PJSIP/ann", "", "Ann") == AgentKey(2, 3, 4001)
    assert directory.resolve("SIP/x", "", "Ann") is None
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            assert directory.resolve("PJSIP/bob", "PJSIP/bob", "Bob") is None
            assert directory.resolve("Local/60000@agents/n", "", "Tiny") is None
    assert list(directory.unmapped) == [
        "Ann (SIP/x)",
        "Bob (PJSIP/bob)",
        "Tiny (Local/60000@agents/n)",
    ]
    assert sum("Bob" in r.message for r in caplog.records) == 1
    assert (
        directory.unmapped["Tiny (Local/60000@agents/n)"] == "agentId 60000 is outside 101..59999"
    )
