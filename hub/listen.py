"""Listening sockets, bound in the hub's bind phase: a taken port refuses start-up.

Everything the hub listens on (the web server, a DTU link's TCP server, a UDP link, NB-IoT's
UDP socket and push listener) binds its socket in its stage's ``bind`` step, which the hub
runs for every stage before it starts any (``Hub.start``). The stage's ``start`` then serves
on the sockets already bound. A port that cannot be had raises :class:`PortInUse`, a
:class:`~hub.exceptions.StartupRefused` whose one-line message names the port and the
``hub.yaml`` key that sets it, before any stage has read a meter, sent a command or a
notification.
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass, field

from .exceptions import StartupRefused
from .i18n import Text
from .messages import STRINGS as _STRINGS  # noqa: F401  (the tables of the Texts below)

__all__ = ["Listening", "PortInUse", "bind_tcp", "bind_udp"]

BACKLOG = 1024


class PortInUse(StartupRefused):
    """A port the hub must listen on cannot be bound (in use, not allowed, no such address)."""


@dataclass
class Listening:
    """Sockets bound for one listener: what it is, the key that sets it, its sockets."""

    what: str  # "port 8123", "UDP port 9001"
    key: str  # where to change it: "http: port in hub.yaml, or --port"
    sockets: list[socket.socket] = field(default_factory=list)

    @property
    def port(self) -> int:
        """The port bound (the one picked when 0 was asked for)."""
        return int(self.sockets[0].getsockname()[1]) if self.sockets else 0

    def take(self) -> list[socket.socket]:
        """Hand the sockets to a server, which closes them from now on."""
        sockets, self.sockets = self.sockets, []
        return sockets

    def close(self) -> None:
        """Close sockets not handed over (bound, never served)."""
        for sock in self.take():
            sock.close()


def bind_tcp(host: str, port: int, *, key: str) -> Listening:
    """Bind and listen on ``host:port`` (every address the host names) or raise PortInUse.

    ``key`` says where the port is set (``"http: port in hub.yaml, or --port"``).
    """
    return _bind(host, port, socket.SOCK_STREAM, key)


def bind_udp(host: str, port: int, *, key: str) -> Listening:
    """Bind one UDP socket on ``host:port`` (the host's first address: one socket answers
    every peer) or raise PortInUse. No SO_REUSEADDR: on Linux it would let a second process
    share the port."""
    return _bind(host, port, socket.SOCK_DGRAM, key)


def _bind(host: str, port: int, kind: socket.SocketKind, key: str) -> Listening:
    what = f"{'UDP ' if kind == socket.SOCK_DGRAM else ''}port {port}"
    listening = Listening(what, key)
    try:
        infos = socket.getaddrinfo(host or None, port, type=kind, flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise PortInUse(Text("listen.unresolved", host=host, port=port, reason=err.strerror,
                             key=key)) from None
    seen: set[tuple[int, object]] = set()
    try:
        for family, socktype, proto, _name, address in infos:
            if (family, address) in seen or (listening.sockets and kind == socket.SOCK_DGRAM):
                continue
            seen.add((family, address))
            sock = socket.socket(family, socktype, proto)
            listening.sockets.append(sock)
            if kind == socket.SOCK_STREAM:  # rebinding right after a restart (TIME_WAIT)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
                if kind == socket.SOCK_STREAM:
                    sock.listen(BACKLOG)
            except OSError as err:
                raise PortInUse(_reason(err, what, str(address[0]), key)) from None
            sock.setblocking(False)
    except BaseException:
        listening.close()
        raise
    if port == 0:  # the port picked, for log lines
        listening.what = f"{'UDP ' if kind == socket.SOCK_DGRAM else ''}port {listening.port}"
    return listening


def _reason(err: OSError, what: str, host: str, key: str) -> str:
    """One line: what could not be bound, why, and which setting changes it."""
    if err.errno == errno.EADDRINUSE:
        return f"{what} is in use ({key})"
    if err.errno == errno.EACCES:
        return f"{what} needs privileges this user does not have ({key})"
    if err.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine ({key})"
    return f"cannot listen on {host} {what}: {err.strerror or err} ({key})"
