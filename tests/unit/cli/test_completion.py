"""``ccms completion``: shell completion generated from the one parser."""

from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from ccms.cli import main

pytestmark = pytest.mark.unit


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell], {}) == 0
    return capsys.readouterr().out


def complete(source: str, line: str) -> list[str]:
    """What bash offers for ``line`` (the word being completed is its last, maybe empty)."""
    words = shlex.split(line) + ([""] if line.endswith(" ") else [])
    program = (
        f"{source}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        f"COMP_LINE={shlex.quote(line)}; COMP_POINT={len(line)}\n"
        '_ccms ccms "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(["bash", "-c", program], capture_output=True, text=True, check=True)
    assert result.stderr == ""
    return [word for word in result.stdout.splitlines() if word]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    ("line", "offered"),
    [
        (
            "ccms ",
            [
                "serve",
                "simulate",
                "demo",
                "agent",
                "events",
                "agents",
                "watch",
                "queues",
                "wallboard-url",
                "db",
                "adapter",
                "completion",
            ],
        ),
        ("ccms se", ["serve"]),
        ("ccms db ", ["status", "migrate"]),
        ("ccms --debug db m", ["migrate"]),
        ("ccms serve --log-l", ["--log-level"]),
        ("ccms serve --log-level ", ["debug", "info", "warning", "error"]),
        ("ccms serve --log-format j", ["json"]),
        ("ccms events post --ba", ["--batch"]),
        ("ccms agents 1 1 --fl", ["--flagged"]),
        ("ccms completion ", ["bash", "zsh"]),
        ("ccms --ver", ["--version"]),
        ("ccms serve --port ", []),  # a value: the shell's own (file) completion
    ],
)
def test_bash_completes_commands_options_and_choices(
    line: str, offered: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert complete(script("bash", capsys), line) == offered


def test_bash_completion_registers_for_the_ccms_command(
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = script("bash", capsys)

    assert source.rstrip().endswith("complete -o default -F _ccms ccms")


def test_zsh_completion_is_the_bash_one_through_bashcompinit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    bash, zsh = script("bash", capsys), script("zsh", capsys)

    assert "autoload -U +X bashcompinit && bashcompinit" in zsh
    assert zsh.rstrip().endswith(bash.rstrip().splitlines()[-1])
    if shutil.which("zsh"):
        subprocess.run(["zsh", "-n", "-c", zsh], check=True)


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["completion", "fish"], {})

    assert caught.value.code == 2
    assert "invalid choice: 'fish'" in capsys.readouterr().err
