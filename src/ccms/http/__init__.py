"""The HTTP surface of ccms: a lean ASGI application (see :func:`create_app`)."""

from ccms.http.app import create_app

__all__ = ["create_app"]
