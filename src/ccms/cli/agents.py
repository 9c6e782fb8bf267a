"""``ccms agents CCID VDN``: the agent list of a VDN (``POST /ccms/v1/agents/query``), as a
table in the server's order (longest in state first by default) or as JSON.

Pages are fetched until ``--limit`` agents are shown or the list ends; the counts line
under the table is of every agent matching the filter, shown or not.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

import orjson

from ccms.cli.client import (
    Stderr,
    client_config,
    connection_flags,
    place_args,
    positive_int,
    use_colour,
)
from ccms.cli.command import EXIT_CODES_HELP, EXIT_OK, Commands
from ccms.client.agent_list import AgentQuery, ListedAgent
from ccms.client.display import STATUS_WORDS, agent_list_table, list_counts, plural
from ccms.domain.listing import LISTED_STATUSES
from ccms.domain.status import AgentStatus

SORTS = [f"{sign}{key}" for key in ("secondsInState", "workNo", "name", "status")
         for sign in ("-", "")]  # fmt: skip
# The statuses ccms produces, by word: signed-out, busy, idle, wrap-up, talking, rest, unknown.
_STATUS_NAMES = {
    STATUS_WORDS[AgentStatus(s)].replace(" ", "-"): AgentStatus(s) for s in LISTED_STATUSES
}
MAX_PAGE = 1000


def agent_status(text: str) -> int:
    """``--status``: an agent status by number (0..8) or word (``idle``, ``wrap-up``...)."""
    word = text.strip().lower()
    if word in _STATUS_NAMES:
        return int(_STATUS_NAMES[word])
    if word.isascii() and word.isdigit() and int(word) in set(AgentStatus):
        return int(word)
    names = ", ".join(_STATUS_NAMES)
    raise argparse.ArgumentTypeError(f"must be a status number 0..8 or one of {names}")


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser(
        "agents",
        help="List a VDN's agents, longest in their state first.",
        description="List a VDN's agents (signed-in ones unless --status says otherwise),"
        " filtered and sorted, with the counts per status of every agent matching.",
        epilog=EXIT_CODES_HELP,
    )
    place_args(parser)
    parser.add_argument(
        "--sort", choices=SORTS, default="-secondsInState", metavar="KEY",
        help="secondsInState, workNo, name or status; a leading - for descending, written"
        " --sort=-name (default -secondsInState: the longest in state first).",
    )  # fmt: skip
    parser.add_argument("--flagged", action="store_true", help="Only agents with a flag.")
    parser.add_argument(
        "--status", type=agent_status, action="append", metavar="STATUS",
        help="Only agents of this status (repeatable): idle, talking, wrap-up, busy, rest,"
        " signed-out, unknown, or its number.",
    )  # fmt: skip
    parser.add_argument(
        "--skill", type=positive_int, action="append", metavar="ID",
        help="Only agents in this skill queue (repeatable).",
    )  # fmt: skip
    parser.add_argument(
        "--search", default="", metavar="TEXT",
        help="Name containing TEXT (ASCII letters without case), or work number starting"
        " with it.",
    )  # fmt: skip
    parser.add_argument(
        "--limit", type=positive_int, default=100, metavar="N",
        help="Show at most N agents (default 100; pages of up to 1000 are fetched).",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="Print the agents as JSON.")
    connection_flags(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = client_config(args, environ)
    query = AgentQuery(skills=args.skill, statuses=args.status, flagged=args.flagged,
                       search=args.search, sort=args.sort)  # fmt: skip
    shown: list[ListedAgent] = []
    err = Stderr(sys.stderr)
    with config.client(retry_deadline=args.retry_deadline, on_retry=err.retrying) as client:
        pages = client.agent_list_pages(
            args.cc_id, args.vdn, query, limit=min(args.limit, MAX_PAGE)
        )
        first = None
        for page in pages:
            first = first or page
            shown.extend(page.agents[: args.limit - len(shown)])
            if len(shown) >= args.limit:
                break
    assert first is not None  # the first page always comes
    if args.json:
        answer = {"agents": [agent.raw for agent in shown],
                  "counts": {str(int(s)): n for s, n in first.counts.items()},
                  "serverTime": first.server_time}  # fmt: skip
        print(orjson.dumps(answer).decode())
        return EXIT_OK
    colour = use_colour(sys.stdout, environ)
    total = sum(first.counts.values())
    if shown:
        print(agent_list_table(shown, colour=colour))
    print(f"{plural(len(shown), 'agent')} of {total:,}: {list_counts(first.counts, colour=colour)}")
    return EXIT_OK
