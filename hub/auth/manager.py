"""The access component: users, logins, sessions, API tokens, the CLI's token, onboarding.

Users, sessions and tokens live in the database (storage's ``auth_*`` tables); this class
holds the rules: argon2id passwords, hashed random secrets, expiry, revocation, failed-login
limits, a role and scope per token never wider than its owner's, and the access log.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import stat
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from ..const import CLI_TOKEN_FILE
from ..i18n import Text
from ..storage import AuditFilter, AuthStore, SessionRow, Storage, TokenRow, UserRow
from ..util.ids import new_id
from . import messages as _messages  # noqa: F401  (the tables of the Texts below)
from .model import (
    CLI_USER,
    AuthError,
    LoginRefused,
    Principal,
    check_role,
    check_user_name,
)
from .passwords import (
    check_password_rules,
    hash_password,
    new_secret,
    secret_hash,
    verify_password,
)
from .ratelimit import LoginLimiter
from .roles import Role, narrower

_LOGGER = logging.getLogger(__name__)

SESSION_DAYS = 14
TOUCH_EVERY_MS = 60_000  # a session's or token's last use is written at most once a minute
TOKEN_PREFIX = "mht_"
CLI_TOKEN_PREFIX = "mhc_"
SETUP_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


class Auth:
    """Users, sessions and tokens of one hub."""

    def __init__(self, storage: Storage, data_dir: Path, *,
                 clock: Callable[[], float] = time.time,
                 limiter: LoginLimiter | None = None) -> None:
        self.storage = storage
        self.data_dir = data_dir
        self.clock = clock
        self.limiter = limiter or LoginLimiter()
        self.setup_code: str | None = None
        self._cli_hash: str | None = None

    @property
    def cli_token_path(self) -> Path:
        """The file holding the CLI's token (mode 0600, beside the database)."""
        return self.data_dir / CLI_TOKEN_FILE

    def now_ms(self) -> int:
        """Now, in epoch milliseconds."""
        return _ms(self.clock())

    async def start(self) -> None:
        """Write a fresh CLI token; count again the failed logins of the last window (from
        the access log: a restart does not reset the limits); with no user yet, print a
        one-time set-up code."""
        self._write_cli_token()
        await self._restore_failures()
        if not await self.storage.auth_read(lambda s: s.count_users()):
            self.setup_code = "-".join("".join(secrets.choice(SETUP_ALPHABET) for _ in range(4))
                                       for _ in range(3))
            _LOGGER.warning(
                "No user yet. Open the dashboard and sign in with the one-time set-up code "
                "%s to create the first admin (or run: meterhub user add NAME --admin)",
                self.setup_code)

    async def _restore_failures(self) -> None:
        now = self.clock()
        since = _ms(now - self.limiter.window)
        attempts = await self.storage.auth_read(lambda s: s.login_attempts(since))
        ticks = self.limiter.clock()
        for ts, action, user, address in attempts:
            if action == "login_failed" and user is not None:
                self.limiter.failed(user, address, at=ticks - (now - ts / 1000))
            elif action == "login" and user is not None:
                self.limiter.succeeded(user)
        if attempts:
            _LOGGER.debug("Login limits: %d attempts of the last %d s counted again",
                          len(attempts), int(self.limiter.window))

    async def stop(self) -> None:
        """Forget the CLI token (a stopped hub answers nobody)."""
        self._cli_hash = None
        self.setup_code = None

    def _write_cli_token(self) -> None:
        token = new_secret(CLI_TOKEN_PREFIX)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        temp = self.cli_token_path.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        # created 0600: never readable by others, not even for a moment
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(token + "\n")
        os.replace(temp, self.cli_token_path)
        self._cli_hash = secret_hash(token)

    # --- users ---------------------------------------------------------------------------

    async def users(self) -> list[UserRow]:
        """Every user."""
        return await self.storage.auth_read(lambda s: s.users())

    async def user(self, user_id: str) -> UserRow | None:
        """One user."""
        return await self.storage.auth_read(lambda s: s.user(user_id))

    async def add_user(self, name: str, role: str, scope: Mapping[str, str],
                       password: str | None, *, by: str, address: str | None = None) -> UserRow:
        """Create a user (refused: a bad or taken name, an unknown role, a weak password)."""
        check_user_name(name)
        found_role = check_role(role, scope)
        if password is not None and (problem := check_password_rules(password)):
            raise AuthError(problem)
        hashed = await hash_password(password) if password is not None else None
        now = self.now_ms()
        row = UserRow(name, found_role.value, dict(scope), hashed, False, now, now)

        def work(store: AuthStore) -> None:
            if store.user(name) is not None:
                raise AuthError(Text("auth.user_exists", name=name), 409)
            store.add_user(row)
            store.log(now, "user_add", by, name, address,
                      {"role": row.role, "scope": row.scope})
        await self.storage.auth_write(work)
        self.setup_code = None
        _LOGGER.info("User %s added (%s) by %s", name, row.role, by)
        return row

    async def _change(self, name: str, action: str, by: str, address: str | None,
                      detail: Mapping[str, Any] | None = None, **fields: Any) -> UserRow:
        now = self.now_ms()

        def work(store: AuthStore) -> UserRow:
            if store.user(name) is None:
                raise AuthError(Text("auth.no_user", name=name), 404)
            store.update_user(name, now, **fields)
            if fields.get("disabled") or "password_hash" in fields or "role" in fields:
                store.revoke_sessions(now, user_id=name)  # what it could do has changed
            store.log(now, action, by, name, address, detail)
            found = store.user(name)
            assert found is not None
            return found
        row = await self.storage.auth_write(work)
        _LOGGER.info("User %s: %s by %s", name, action, by)
        return row

    async def set_password(self, name: str, password: str, *, by: str,
                           address: str | None = None) -> UserRow:
        """Set a new password (every session of the user ends)."""
        if problem := check_password_rules(password):
            raise AuthError(problem)
        return await self._change(name, "user_passwd", by, address,
                                  password_hash=await hash_password(password))

    async def set_disabled(self, name: str, disabled: bool, *, by: str,
                           address: str | None = None) -> UserRow:
        """Disable (sessions end, tokens stop working) or enable a user."""
        return await self._change(name, "user_disable" if disabled else "user_enable", by,
                                  address, disabled=disabled)

    async def set_role(self, name: str, role: str, scope: Mapping[str, str], *, by: str,
                       address: str | None = None) -> UserRow:
        """Change a user's role and scope (sessions end; tokens wider than it stop)."""
        found = check_role(role, scope)
        return await self._change(name, "user_role", by, address,
                                  {"role": found.value, "scope": dict(scope)},
                                  role=found.value, scope=dict(scope))

    async def set_language(self, name: str, language: str | None, *, by: str,
                           address: str | None = None) -> UserRow:
        """Set the language of a user's pages and answers (None: the site's); sessions
        stay open."""
        return await self._change(name, "user_language", by, address,
                                  {"language": language}, language=language)

    async def change_own_password(self, name: str, current: str, new: str,
                                  address: str | None, agent: str | None = None
                                  ) -> tuple[Principal, str]:
        """A user's new password, given the current one (counted as a login when wrong):
        every session of the user ends and a new one opens for the caller."""
        await self._check_blocked(name, address)
        user = await self.user(name)
        if user is None or user.disabled or \
                not await verify_password(user.password_hash, current):
            await self._failed(name, address)
            raise LoginRefused(Text("auth.current_password"))
        user = await self.set_password(name, new, by=name, address=address)
        return await self._open_session(user, address, agent)

    async def _check_blocked(self, name: str, address: str | None) -> None:
        wait = self.limiter.blocked_for(name, address)
        if wait > 0:
            _LOGGER.warning("Login of %r from %s refused: too many failed attempts", name,
                            address)
            await self._log("login_blocked", name, name, address)
            raise LoginRefused(Text("auth.login_blocked", seconds=int(wait) + 1),
                               retry_after=wait)

    async def _failed(self, name: str, address: str | None) -> None:
        self.limiter.failed(name, address)
        _LOGGER.warning("Failed login of %r from %s", name, address)
        await self._log("login_failed", name, name, address)

    # --- logins and sessions -------------------------------------------------------------

    async def login(self, name: str, password: str, address: str | None,
                    agent: str | None = None) -> tuple[Principal, str]:
        """Check a password; a new session and its cookie secret, else LoginRefused."""
        await self._check_blocked(name, address)
        user = await self.user(name)
        good = await verify_password(user.password_hash if user else None, password)
        if user is None or not good or user.disabled:
            await self._failed(name, address)
            raise LoginRefused(Text("auth.login_failed"))
        self.limiter.succeeded(name)
        return await self._open_session(user, address, agent)

    async def _open_session(self, user: UserRow, address: str | None,
                            agent: str | None) -> tuple[Principal, str]:
        secret = new_secret()
        now = self.now_ms()
        row = SessionRow(new_id(), secret_hash(secret), user.user_id, now,
                         now + SESSION_DAYS * 86_400_000, now, address, (agent or "")[:200],
                         None)

        def work(store: AuthStore) -> None:
            store.add_session(row)
            store.log(now, "login", user.user_id, row.session_id, address)
        await self.storage.auth_write(work)
        _LOGGER.info("User %s logged in from %s", user.user_id, address)
        return self._session_principal(user, row, secret), secret

    def _session_principal(self, user: UserRow, row: SessionRow, secret: str) -> Principal:
        return Principal(user.user_id, Role(user.role), dict(user.scope), "session",
                         row.session_id, csrf_token(secret), user.language)

    async def setup_admin(self, code: str, name: str, password: str,
                          address: str | None) -> tuple[Principal, str]:
        """Onboarding: the one-time set-up code creates the first admin and logs it in."""
        wait = self.limiter.blocked_for("@setup", address)
        if wait > 0:
            raise LoginRefused(Text("auth.setup_blocked", seconds=int(wait) + 1), wait)
        expected = self.setup_code
        if expected is None or not secrets.compare_digest(code.strip().upper(), expected):
            self.limiter.failed("@setup", address)
            _LOGGER.warning("Wrong set-up code from %s", address)
            raise LoginRefused(Text("auth.setup_code"))
        if await self.storage.auth_read(lambda s: s.count_users()):
            self.setup_code = None
            raise LoginRefused(Text("auth.setup_done"))
        user = await self.add_user(name, Role.ADMIN, {}, password, by="@setup", address=address)
        return await self._open_session(user, address, None)

    async def session(self, secret: str, address: str | None = None) -> Principal | None:
        """The caller of a session cookie (None: unknown, tampered, expired, revoked, or its
        user disabled)."""
        hashed = secret_hash(secret)
        now = self.now_ms()
        found = await self.storage.auth_read(
            lambda s: (row := s.session_by_hash(hashed), s.user(row.user_id) if row else None))
        row, user = found
        if (row is None or user is None or row.revoked_ms is not None or row.expires_ms <= now
                or user.disabled):
            return None
        if now - row.last_used_ms >= TOUCH_EVERY_MS:
            await self.storage.auth_write(lambda s: s.touch_session(row.session_id, now),
                                          durable=False)
        return self._session_principal(user, row, secret)

    async def sessions(self, user_id: str | None) -> list[SessionRow]:
        """Open sessions (one user's, or all)."""
        now = self.now_ms()
        return await self.storage.auth_read(lambda s: s.sessions(user_id, now))

    async def revoke_session(self, session_id: str, *, by: Principal,
                             address: str | None = None) -> None:
        """End a session: the caller's own, or (an admin) anyone's; 404 otherwise."""
        now = self.now_ms()

        def work(store: AuthStore) -> None:
            _check_owner(store.session(session_id), by, "session", session_id)
            store.revoke_sessions(now, session_id=session_id)
            store.log(now, "session_revoke", by.user_id, session_id, address)
        await self.storage.auth_write(work)

    # --- API tokens ----------------------------------------------------------------------

    async def create_token(self, owner: str, name: str, role: str | None,
                           scope: Mapping[str, str] | None, *, by: Principal,
                           days: int | None = None,
                           address: str | None = None) -> tuple[TokenRow, str]:
        """A new token for ``owner`` (an admin: anyone's; a user: their own) with a role and
        scope no wider than the owner's; the secret is returned once and never stored."""
        if owner != by.user_id and by.role != Role.ADMIN:
            raise AuthError(Text("auth.no_user", name=owner), 404)
        user = await self.user(owner)
        if user is None:
            raise AuthError(Text("auth.no_user", name=owner), 404)
        if user.disabled:
            raise AuthError(Text("auth.user_disabled", name=owner))
        token_scope = dict(scope if scope is not None else user.scope)
        wanted = role or user.role
        if user.role != Role.ADMIN and wanted != user.role:
            raise AuthError(Text("auth.token_role", name=owner, role=user.role))
        if not narrower(token_scope, user.scope):
            raise AuthError(Text("auth.token_scope", name=owner, scope=user.scope))
        token_role = check_role(wanted, token_scope)
        if not name.strip():
            raise AuthError(Text("auth.token_name"))
        secret = new_secret(TOKEN_PREFIX)
        now = self.now_ms()
        row = TokenRow(new_id(), secret_hash(secret), name.strip()[:100], owner,
                       token_role.value, token_scope, now,
                       now + days * 86_400_000 if days else None, None, None, None)

        def work(store: AuthStore) -> None:
            store.add_token(row)
            store.log(now, "token_create", by.user_id, row.token_id, address,
                      {"owner": owner, "role": row.role, "scope": row.scope, "name": row.name})
        await self.storage.auth_write(work)
        _LOGGER.info("Token %s (%s) created for %s by %s", row.token_id, row.name, owner,
                     by.user_id)
        return row, secret

    async def token(self, secret: str, address: str | None = None) -> Principal | None:
        """The caller of a bearer token (the CLI's, or one from the database); None when
        unknown, revoked, expired, its owner disabled or its role wider than the owner's."""
        hashed = secret_hash(secret)
        if self._cli_hash is not None and secrets.compare_digest(hashed, self._cli_hash):
            return Principal(CLI_USER, Role.ADMIN, {}, "cli")
        now = self.now_ms()
        row, user = await self.storage.auth_read(
            lambda s: (row := s.token_by_hash(hashed), s.user(row.user_id) if row else None))
        if (row is None or user is None or user.disabled or row.revoked_ms is not None
                or (row.expires_ms is not None and row.expires_ms <= now)
                or (user.role != Role.ADMIN and row.role != user.role)
                or not narrower(row.scope, user.scope)):
            return None
        if row.last_used_ms is None or now - row.last_used_ms >= TOUCH_EVERY_MS:
            await self.storage.auth_write(lambda s: s.touch_token(row.token_id, now, address),
                                          durable=False)
        return Principal(row.user_id, Role(row.role), dict(row.scope), "token", row.token_id,
                         language=user.language)

    async def tokens(self, user_id: str | None) -> list[TokenRow]:
        """Tokens (one user's, or all), revoked ones too."""
        return await self.storage.auth_read(lambda s: s.tokens(user_id))

    async def revoke_token(self, token_id: str, *, by: Principal,
                           address: str | None = None) -> TokenRow:
        """Revoke a token: one's own, or (an admin) anyone's; 404 otherwise."""
        now = self.now_ms()

        def work(store: AuthStore) -> TokenRow:
            row = _check_owner(store.token(token_id), by, "token", token_id)
            store.revoke_token(token_id, now)
            store.log(now, "token_revoke", by.user_id, token_id, address)
            return replace(row, revoked_ms=row.revoked_ms or now)
        row = await self.storage.auth_write(work)
        _LOGGER.info("Token %s revoked by %s", token_id, by.user_id)
        return row

    # --- the audit trail -----------------------------------------------------------------

    async def audit(self, where: AuditFilter) -> list[dict[str, Any]]:
        """Who did what, newest first (see :meth:`AuthStore.audit`)."""
        return await self.storage.auth_read(lambda s: s.audit(where))

    async def _log(self, action: str, user_id: str | None, target: str | None,
                   address: str | None) -> None:
        now = self.now_ms()
        await self.storage.auth_write(lambda s: s.log(now, action, user_id, target, address),
                                      durable=False)


_Owned = TypeVar("_Owned", SessionRow, TokenRow)


def _check_owner(row: _Owned | None, by: Principal, kind: str, ident: str) -> _Owned:
    """``row`` if ``by`` may act on it (their own; an admin: anyone's), else "no such"
    (404: another's is not said to exist)."""
    if row is None or (row.user_id != by.user_id and by.role != Role.ADMIN):
        raise AuthError(Text("auth.no_such", kind=kind, ident=ident), 404)
    return row


def csrf_token(session_secret: str) -> str:
    """The CSRF token of a session: derived from its secret, so another session's token
    (or a guessed one) never matches."""
    return secret_hash("csrf:" + session_secret)[:43]
