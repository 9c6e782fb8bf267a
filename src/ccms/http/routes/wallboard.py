"""The wallboard: ``GET /wallboard`` (the page) and ``GET /wallboard/{file}`` (its ES
modules and style sheet), static files from inside the package, without authentication:
the page holds no data and no secret; it reads the agents from the stream with the view
token its URL carries (``docs/wallboard.md``).

Every answer carries a strict Content-Security-Policy (only this origin's scripts, styles
and connections; no inline script, no frame, no form), ``nosniff`` and ``no-referrer``
(the token is in the URL's fragment, which a browser never sends, and no page it opens may
learn the URL). Files are revalidated on each load (``no-cache`` with a strong ETag, 304
when unchanged), so that an upgraded ccms serves its new page at once.
"""

from __future__ import annotations

from ccms import wire
from ccms.errors import NotFoundError
from ccms.http import assets
from ccms.http.routing import Answer, Auth, Body, Context, Request, Route
from ccms.settings import Settings

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}


def _answer(asset: assets.Asset, request: Request) -> Answer:
    headers = {**HEADERS, "ETag": asset.etag}
    wanted = request.headers.get("if-none-match", "")
    if asset.etag in (tag.strip().removeprefix("W/") for tag in wanted.split(",")):
        return Answer(b"", status=304, content_type=asset.content_type, headers=headers, code="")
    return Answer(asset.body, content_type=asset.content_type, headers=headers, code="")


async def page(ctx: Context, request: Request) -> Answer:
    return _answer(assets.wallboard()[assets.PAGE], request)


async def file(ctx: Context, request: Request) -> Answer:
    name = request.path.rpartition("/")[2]
    asset = assets.wallboard().get(name)
    if asset is None or name == assets.PAGE:
        raise NotFoundError(f"no wallboard file {name!r}")
    return _answer(asset, request)


def routes(settings: Settings) -> list[Route]:
    return [
        Route("GET", wire.WALLBOARD, page, auth=Auth.NONE, body=Body.NONE),
        Route("GET", wire.WALLBOARD_FILES, file, auth=Auth.NONE, body=Body.NONE),
    ]
