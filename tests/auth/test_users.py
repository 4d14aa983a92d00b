"""Users, roles, scopes and tokens in the database: argon2id hashes, clear refusals, tokens
never wider than their owner."""

from __future__ import annotations

from pathlib import Path

import pytest
from access_support import PASSWORD, ROOT, access_site
from common import bounded, db_rows, write

from hub.auth import AuthError, LoginRefused, Principal, Role
from hub.bootstrap import prepare


@pytest.mark.timeout(150)
@bounded(120)
async def test_passwords_are_argon2id_and_secrets_are_never_stored(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        data = site.hub.config.data_dir
        hashes = [row[0] for row in db_rows(data, "SELECT password_hash FROM auth_user")]
        assert hashes and all(str(h).startswith("$argon2id$") for h in hashes)
        assert len(set(hashes)) == len(hashes)  # salted: one password, six hashes
        principal, secret = await site.auth.login("viewer", PASSWORD, "127.0.0.1")
        assert principal.role == Role.VIEWER
        dump = "\n".join(map(str, db_rows(data, "SELECT * FROM auth_session")
                             + db_rows(data, "SELECT * FROM auth_token")
                             + db_rows(data, "SELECT * FROM auth_user")))
        for value in (PASSWORD, secret, *site.tokens.values()):
            assert value not in dump


@pytest.mark.parametrize(("name", "role", "scope", "password", "message"), [
    ("Bad Name", "viewer", {}, PASSWORD, "not a valid name"),
    ("@cli", "admin", {}, PASSWORD, "not a valid name"),
    ("carol", "owner", {}, PASSWORD, "'owner' is not one of"),
    ("carol", "landlord", {}, PASSWORD, "a landlord needs a scope"),
    ("carol", "admin", {"building": "A"}, PASSWORD, "an admin has the whole site"),
    ("carol", "viewer", {}, "short", "at least 8 characters"),
    ("viewer", "viewer", {}, PASSWORD, "exists already"),
])
@pytest.mark.timeout(150)
@bounded(120)
async def test_a_bad_user_is_refused_naming_what(tmp_path: Path, name: str, role: str,
                                                 scope: dict[str, str], password: str,
                                                 message: str) -> None:
    async with access_site(tmp_path) as site:
        with pytest.raises(AuthError, match=message):
            await site.auth.add_user(name, role, scope, password, by="@test")
        assert len(await site.auth.users()) == 6


@pytest.mark.timeout(150)
@bounded(120)
async def test_a_token_is_never_wider_than_its_owner(tmp_path: Path) -> None:
    async with access_site(tmp_path) as site:
        auth = site.auth
        landlord = Principal("landlord_a", Role.LANDLORD, {"building": "A"}, "session")
        with pytest.raises(AuthError, match="inside their scope"):
            await auth.create_token("landlord_a", "x", None, {"building": "B"}, by=landlord)
        with pytest.raises(AuthError, match="only have their role"):
            await auth.create_token("landlord_a", "x", "admin", None, by=ROOT)
        with pytest.raises(AuthError, match="no user 'viewer'"):  # another's: not found
            await auth.create_token("viewer", "x", None, None, by=landlord)
        row, narrow = await auth.create_token("landlord_a", "floor 3", None,
                                              {"building": "A", "floor": "3"}, by=landlord)
        assert row.scope == {"building": "A", "floor": "3"}
        assert (await auth.token(narrow)) is not None
        # the owner becomes a viewer: the landlord's token stops, it would be wider now
        await auth.set_role("landlord_a", "viewer", {}, by="@test")
        assert await auth.token(narrow) is None
        assert await auth.token(site.tokens["landlord_a"]) is None
        with pytest.raises(LoginRefused):
            await auth.login("nobody", PASSWORD, "10.0.0.9")


async def test_the_removed_api_token_key_says_what_to_do(tmp_path: Path) -> None:
    config = write(tmp_path / "hub.yaml", "http: {port: 8123, api_token: abc}\n")
    problems = [str(p) for p in prepare(config).problems]
    assert any("http.api_token" in p and "meterhub token create" in p for p in problems), \
        problems
