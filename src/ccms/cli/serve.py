"""``ccms serve``: run the CC-CMS compatible server.

Its flags come from the settings table (``ccms.settings.SETTINGS``), so every setting has a
flag, a ``CCMS_*`` variable and a line of help.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Mapping

from ccms import server
from ccms.cli.command import EXIT_OK, Commands
from ccms.settings import SETTINGS, load_settings


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser("serve", help="Run the CC-CMS compatible server.")
    parser.add_argument("--config", help="TOML file of settings (env: CCMS_CONFIG).")
    for setting in SETTINGS:
        help_text = f"{setting.help} (env {setting.env}; default: {setting.default!r})"
        if setting.type is bool:
            parser.add_argument(
                setting.flag, dest=setting.name, action="store_const", const=True, help=help_text
            )
        else:
            parser.add_argument(
                setting.flag, dest=setting.name, type=setting.type, metavar="VALUE", help=help_text
            )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    overrides = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    settings = load_settings(environ, overrides, args.config)
    server.configure_logging(settings.log_level)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn's, after its graceful shutdown
        server.serve(settings)
    return EXIT_OK
