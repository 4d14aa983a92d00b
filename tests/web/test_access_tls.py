"""Optional TLS: ``http.ssl_certificate`` and ``http.ssl_key`` serve HTTPS, and the session
cookie is then Secure; a certificate that cannot be used stops start-up naming the keys."""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path

import aiohttp
import pytest
from access_support import PASSWORD, SITE, USERS
from common import bounded, start_hub

from hub.auth import Auth
from hub.exceptions import StartupRefused
from hub.web.access import SESSION_COOKIE
from hub.web.server import WebServer


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made by the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=meterhub.test", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def _tls_site(cert: Path, key: Path) -> str:
    return SITE.replace("http: {host: 127.0.0.1, port: 0}",
                        f"http: {{host: 127.0.0.1, port: 0, ssl_certificate: {cert}, "
                        f"ssl_key: {key}}}")


@pytest.mark.timeout(150)
@bounded(120)
async def test_https_serves_and_the_cookie_is_secure(tmp_path: Path) -> None:
    cert, key = await asyncio.to_thread(_certificate, tmp_path)
    async with start_hub(tmp_path, _tls_site(cert, key)) as hub:
        await hub.component("auth", Auth).add_user("viewer", *USERS["viewer"], PASSWORD,
                                                   by="@test")
        port = hub.component("web", WebServer).port
        trust = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
            async with session.post(f"https://127.0.0.1:{port}/login", ssl=trust, json={
                    "user": "viewer", "password": PASSWORD}) as response:
                assert response.status == 200
                cookie = response.cookies[SESSION_COOKIE]
            assert cookie["secure"] is True and cookie["httponly"] is True
            with pytest.raises(aiohttp.ClientError):  # no plain HTTP on that port
                async with session.get(f"http://127.0.0.1:{port}/login") as response:
                    await response.read()


@pytest.mark.timeout(150)
@bounded(120)
async def test_an_unusable_certificate_stops_start_up_naming_the_keys(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(StartupRefused, match="ssl_certificate / ssl_key"):
        async with start_hub(tmp_path, _tls_site(bad, bad)):
            pass
