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
from ccms.settings import SETTINGS, Setting, load_settings


def add_commands(commands: Commands) -> None:
    parser = commands.add_parser(
        "serve", help="Run the CC-CMS compatible server.",
        description="Run the CC-CMS compatible server. Each flag is a setting (docs/settings.md):"
        " defaults < --config file < CCMS_* variables < flags.",
    )  # fmt: skip
    parser.add_argument("--config", metavar="FILE", help="TOML file of settings (env CCMS_CONFIG)")
    for setting in SETTINGS:
        add_setting(parser, setting)
    parser.set_defaults(handler=run)


def add_setting(parser: argparse.ArgumentParser, setting: Setting) -> None:
    """The flag of a setting: its value's name, its variable and its default in the help.

    Values are checked by ``load_settings`` (one line, whatever the source), not here.
    """
    if setting.type is bool:
        parser.add_argument(
            setting.flag, dest=setting.name, action="store_const", const=True,
            help=f"{setting.help} (env {setting.env})",
        )  # fmt: skip
        return
    value = setting.default
    shown = ",".join(value) if isinstance(value, tuple) else str(value)  # a list: as typed
    default = f", default {shown}" if shown else ""
    parser.add_argument(
        setting.flag, dest=setting.name, metavar=setting.metavar,
        help=f"{setting.help} (env {setting.env}{default})".replace("%", "%%"),
    )  # fmt: skip


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    overrides = {s.name: getattr(args, s.name, None) for s in SETTINGS}
    settings = load_settings(environ, overrides, args.config)
    server.configure_logging(settings)
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn's, after its graceful shutdown
        server.serve(settings)
    return EXIT_OK
