"""``ccms completion bash|zsh``: a shell completion script, generated from the one parser.

The script completes commands, options and the values of options that have a fixed set
(an argument's choices, or a setting's, such as ``--log-level``); other values (files,
URLs, numbers) are left to the shell's own completion. zsh runs the bash script through its
``bashcompinit``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from ccms.cli.command import EXIT_OK, Commands
from ccms.settings import SETTINGS

CHOICES = {setting.name: setting.choices for setting in SETTINGS if setting.choices}
ZSH_PRELUDE = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n"


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser(
        "completion",
        help="Print a shell completion script.",
        description='Print a shell completion script: eval "$(ccms completion bash)" in'
        ' ~/.bashrc, eval "$(ccms completion zsh)" in ~/.zshrc.',
    )
    parser.add_argument("shell", choices=("bash", "zsh"), help="the shell (bash or zsh)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    script = bash_script(args.parser)  # the whole ccms parser (``ccms.cli.build_parser``)
    print(ZSH_PRELUDE + script if args.shell == "zsh" else script, end="")
    return EXIT_OK


@dataclass
class Node:
    """One command (``""`` for ``ccms`` itself, ``"db status"``...): what may follow it."""

    words: list[str] = field(default_factory=list)  # subcommands, or a positional's choices
    options: list[str] = field(default_factory=list)
    values: dict[str, list[str]] = field(default_factory=dict)  # option -> its choices
    takes_value: list[str] = field(default_factory=list)  # options followed by a value


def nodes(parser: argparse.ArgumentParser, path: str = "") -> Iterator[tuple[str, Node]]:
    node = Node()
    children: dict[str, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            children = dict(action.choices)
            node.words += list(children)
        elif action.option_strings:
            node.options += action.option_strings
            if action.nargs != 0:
                node.takes_value += action.option_strings
                choices = action.choices or CHOICES.get(action.dest)  # a setting's, checked later
                for option in action.option_strings if choices else ():
                    node.values[option] = [str(choice) for choice in choices or ()]
        elif action.choices:
            node.words += [str(choice) for choice in action.choices]
    yield path, node
    for name, child in children.items():
        yield from nodes(child, f"{path} {name}".strip())


def _case(pattern: str, body: str) -> str:
    return f"        {pattern}) {body} ;;"


def bash_script(parser: argparse.ArgumentParser) -> str:
    """The bash completion of ``parser``'s program: a function ``_ccms`` and its ``complete``."""
    tree = dict(nodes(parser))
    program = parser.prog
    node_cases, value_cases = [], []
    for path, node in tree.items():
        node_cases.append(
            _case(
                f'"{path}"', f'words="{" ".join(node.words)}"; options="{" ".join(node.options)}"'
            )
        )
        for option, choices in node.values.items():
            reply = f'COMPREPLY=($(compgen -W "{" ".join(choices)}" -- "$cur")); return'
            value_cases.append(_case(f'"{path}|{option}"', reply))
        free = [option for option in node.takes_value if option not in node.values]
        if free:  # a file, a URL, a number: the shell's own completion (complete -o default)
            value_cases.append(_case("|".join(f'"{path}|{option}"' for option in free), "return"))
    return f"""# {program} completion for bash, from its parser (`{program} completion bash`)
_{program}_node() {{
    case "$1" in
{chr(10).join(node_cases)}
        *) words=""; options="" ;;
    esac
}}

_{program}() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev=${{COMP_WORDS[COMP_CWORD-1]}}
    local path="" words options i
    for ((i = 1; i < COMP_CWORD; i++)); do
        _{program}_node "$path"
        if [[ " $words " == *" ${{COMP_WORDS[i]}} "* && ${{COMP_WORDS[i]}} != -* ]]; then
            path="${{path:+$path }}${{COMP_WORDS[i]}}"
        fi
    done
    COMPREPLY=()
    case "$path|$prev" in
{chr(10).join(value_cases)}
    esac
    _{program}_node "$path"
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options" -- "$cur"))
    else
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
    fi
}}

complete -o default -F _{program} {program}
"""
