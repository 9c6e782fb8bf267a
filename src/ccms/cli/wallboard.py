"""``ccms wallboard-url CCID VDN``: the wallboard's URL for a VDN, with a fresh view token
(``POST /ccms/v1/tokens``, narrowed to that VDN) in its fragment, which a browser never
sends to a server nor puts in a ``Referer``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from urllib.parse import urlencode

from ccms import wire
from ccms.cli.client import Stderr, client_config, connection_flags, place_args, positive_int
from ccms.cli.command import EXIT_CODES_HELP, EXIT_OK, Commands
from ccms.client import Client


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser(
        "wallboard-url",
        help="Print the wallboard's URL for a VDN, with a fresh view token.",
        description="Print the URL of the wallboard of a VDN, with a fresh view token"
        " narrowed to it (the key needs the role 'query'). Open it in a browser.",
        epilog=EXIT_CODES_HELP,
    )
    place_args(parser)
    parser.add_argument(
        "--ttl", type=positive_int, default=None, metavar="SECONDS",
        help="How long the link works (default: the server's view_token_ttl_s, 12 h;"
        " at most its view_token_max_ttl_s, 24 h).",
    )  # fmt: skip
    parser.add_argument(
        "--skills",
        type=skill_list,
        metavar="IDS",
        help="Only the agents of these skill queues (a comma list: 1,2).",
    )
    connection_flags(parser)
    parser.set_defaults(handler=_wallboard_url)


def skill_list(text: str) -> str:
    """``--skills``: skill queue ids, comma-separated (``1,2``)."""
    items = [item.strip() for item in text.split(",")]
    if not all(item.isascii() and item.isdigit() for item in items):
        raise argparse.ArgumentTypeError(
            f"must be skill queue ids separated by commas, got {text!r}"
        )
    return ",".join(items)


def board_link(base_url: str, cc_id: int, vdn: int, token: str, skills: str | None = None) -> str:
    """The wallboard's URL on the server at ``base_url``: the VDN and the token in its
    fragment."""
    fragment = {"ccId": cc_id, "vdn": vdn, **({"skills": skills} if skills else {}),
                "token": token}  # fmt: skip
    return f"{base_url.rstrip('/')}{wire.WALLBOARD}#{urlencode(fragment)}"


def wallboard_url(
    client: Client, cc_id: int, vdn: int, ttl_s: int | None = None, skills: str | None = None
) -> str:
    """The wallboard's URL on ``client``'s server, with a fresh view token for the VDN."""
    token = client.create_view_token(cc_id, vdn, ttl_s)
    return board_link(client.base_url, cc_id, vdn, token.token, skills)


def _wallboard_url(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    config = client_config(args, environ)
    err = Stderr(sys.stderr)
    with config.client(retry_deadline=args.retry_deadline, on_retry=err.retrying) as client:
        print(wallboard_url(client, args.cc_id, args.vdn, args.ttl, args.skills))
    return EXIT_OK
