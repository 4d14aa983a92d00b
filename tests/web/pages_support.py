"""A logged-in browser session on the access site, and reading pages back (imported by name:
tests/web is on sys.path through conftest). Generic helpers: common.py, access_support.py."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from access_support import PASSWORD, REQUEST_TIMEOUT, Site


@asynccontextmanager
async def browser(site: Site, user: str, **cookies: str) -> AsyncIterator[aiohttp.ClientSession]:
    """A cookie jar logged in as ``user`` (sends the hub's Origin on changes, as a page does)."""
    async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT,
                                     cookie_jar=aiohttp.CookieJar(unsafe=True),
                                     headers={"Origin": site.base}) as session:
        if cookies:
            session.cookie_jar.update_cookies(cookies)
        async with session.post(f"{site.base}/login",
                                json={"user": user, "password": PASSWORD}) as response:
            assert response.status == 200, await response.text()
        yield session


async def page(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> tuple[int, str]:
    """GET a page: (status, html)."""
    async with session.get(url, **kwargs) as response:
        return response.status, await response.text()


async def post_form(session: aiohttp.ClientSession, url: str, form: dict[str, str],
                    **kwargs: Any) -> tuple[int, str, str | None]:
    """POST a form (redirects not followed): (status, html, Location)."""
    kwargs.setdefault("allow_redirects", False)
    async with session.post(url, data=form, **kwargs) as response:
        return response.status, await response.text(), response.headers.get("Location")


def csrf_of(html: str) -> str:
    """The session's CSRF token as the page carries it."""
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page carries no CSRF token"
    return found.group(1)


def text_of(html: str) -> str:
    """The page's visible text, tags dropped and entities decoded, blanks collapsed."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def section(html: str, element_id: str) -> str:
    """The markup from the element with ``id`` to the end of its enclosing section."""
    start = html.index(f'id="{element_id}"')
    end = html.find("</section>", start)
    return html[start:end if end != -1 else None]


def hidden_fields(html: str, form_action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``form_action`` (csrf, version, key...)."""
    start = html.index(f'action="{form_action}"')
    end = html.index("</form>", start)
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"',
                           html[start:end]))
