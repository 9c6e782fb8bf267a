"""``GET /wallboard`` and ``GET /wallboard/{file}``: the page's files from the package,
without authentication, with their content types, a strict CSP and ETag revalidation."""

from __future__ import annotations

import httpx
import pytest

from ccms.http.app import App
from ccms.http.assets import file_names

pytestmark = [pytest.mark.integration, pytest.mark.anyio]


def client(app: App) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_the_page_and_its_files_are_served_with_their_types_and_policy(app: App) -> None:
    async with client(app) as http:
        page = await http.get("/wallboard")
        assert page.status_code == 200
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert 'src="wallboard/app.js"' in page.text
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert page.headers["x-content-type-options"] == "nosniff"
        assert page.headers["referrer-policy"] == "no-referrer"
        assert page.headers["cache-control"] == "no-cache"
        types = {}
        for name in file_names():
            answer = await http.get(f"/wallboard/{name}")
            assert answer.status_code == 200, name
            assert answer.headers["content-security-policy"] == policy
            types[name.rpartition(".")[2]] = answer.headers["content-type"]
        assert types == {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8"}


async def test_an_unchanged_file_is_revalidated_with_304(app: App) -> None:
    async with client(app) as http:
        first = await http.get("/wallboard/app.js")
        tag = first.headers["etag"]
        again = await http.get("/wallboard/app.js", headers={"If-None-Match": tag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
        other = await http.get("/wallboard/app.js", headers={"If-None-Match": '"other"'})
        assert other.status_code == 200 and other.content == first.content


@pytest.mark.parametrize(
    "path", ["/wallboard/nothing.js", "/wallboard/index.html",
             "/wallboard/a/b.js", "/wallboard/"],
)  # fmt: skip
async def test_other_names_are_not_found(app: App, path: str) -> None:
    async with client(app) as http:
        answer = await http.get(path)
    assert answer.status_code == 404
    assert answer.json()["resultCode"] == "0100002"  # as every unknown path


async def test_only_get_and_head(app: App) -> None:
    async with client(app) as http:
        head = await http.head("/wallboard/wallboard.css")
        post = await http.post("/wallboard", content=b"{}")
    assert head.status_code == 200 and head.content == b""
    assert post.status_code == 405 and post.headers["allow"] == "GET, HEAD"
