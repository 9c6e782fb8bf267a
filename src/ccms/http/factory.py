"""The app factory worker processes call (``ccms serve --workers N``).

Worker processes are started by the ASGI server, which can pass them nothing but an
import string; the parent passes the settings as ``CCMS_*`` variables (the process
boundary), and this factory builds the app from them.
"""

from __future__ import annotations

import os

from ccms.auth import load_credentials
from ccms.http.app import App, create_app
from ccms.settings import load_settings
from ccms.store.backends import open_store


def app_from_environ() -> App:
    settings = load_settings(os.environ)
    keys = load_credentials(settings.credentials, allow_weak=os.environ.get("CCMS_DEMO") == "1")
    return create_app(settings, open_store(settings), keys)
