"""Serving the app with uvicorn, in one process or several, so that long-lived responses end
when the server stops.

uvicorn's graceful shutdown waits for open connections to finish; a live stream (the
watch-list hits, server-sent events) never finishes by itself. :class:`Server` sets
the app's ``state.stopping`` event before that wait, the streams see it within one
poll interval and end, and the shutdown completes. ``timeout_graceful_shutdown``
remains as a backstop.

With ``workers`` > 1 (:func:`run_workers`) uvicorn's supervisor starts that many worker
processes (restarting one that dies); each listens on the port with a socket of its own
(``SO_REUSEPORT``), so the kernel spreads new connections over the workers. (On one shared
socket, the worker that wakes first accepts whatever is waiting: keep-alive clients then
pile onto one process while the other idles.) The kernel's spread is random: the workers
even it out between themselves (:mod:`lianfang.api.balance`). Each worker builds its own platform from
the same ``LIANFANG_*`` settings (:func:`app_from_settings`) and serves with :class:`Server`.
Python runs one request's code at a time per process, so one process uses about one core;
the platform is built for several processes on one store (the audit trail's appenders,
the alarm rules and the watch-list matcher coordinate through the database, hits reach a
stream by polling it).
"""

from __future__ import annotations

import errno
import fcntl
import gc
import logging
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import multiprocess

from lianfang.api.balance import Balancer, LoadTable

log = logging.getLogger("uvicorn.error")

#: the app factory worker processes import (``module:function``)
APP_FACTORY = "lianfang.api.server:app_from_settings"


class Server(uvicorn.Server):
    """uvicorn's server; on shutdown it first tells the app's live streams to end.

    ``stopping`` is the app's event; without it, the event of the app the config loaded
    (in a worker process, where the app is made after the server). ``settle``: once started,
    :func:`settle_heap` (for a process that does nothing but serve, as ``lianfang serve``'s)."""

    def __init__(self, config: uvicorn.Config, stopping: threading.Event | None = None, *, settle: bool = False):
        super().__init__(config)
        self.stopping = stopping
        self.settle = settle
        self.balancer: Balancer | None = None  # a worker beside others: keeps the connection shares even

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.settle and not self.should_exit:
            settle_heap()

    async def on_tick(self, counter: int) -> bool:
        if self.balancer is not None and not self.should_exit:
            try:
                self.balancer.tick(self.server_state.connections)
            except Exception:  # evening out the load must never stop the serving
                log.exception("connection balancing failed; going on without it")
                self.balancer = None
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        event = self.stopping or _loaded_app_stopping(self.config)
        if event is not None:
            event.set()  # before uvicorn waits for open responses to finish
        if self.balancer is not None:
            self.balancer.close()  # the others stop counting on this worker's share
            self.balancer = None
        await super().shutdown(sockets)


def settle_heap() -> None:
    """Move what start-up made out of the cyclic collector's sight (``gc.freeze``).

    A started worker holds some 350,000 container objects that live as long as it does: the
    standard, the policy, pinyin dictionaries, SQLAlchemy's and FastAPI's models. Requests
    promote a few survivors into the oldest generation now and then, and every full
    collection walked all of those objects again: 120–180 ms with the interpreter held, so
    every request in flight on the worker waited that long, a few times a minute under load.
    Frozen, a full collection walks only what came after start-up (a few ms)."""
    gc.collect()
    gc.freeze()


def _loaded_app_stopping(config: uvicorn.Config) -> threading.Event | None:
    app: Any = getattr(config, "loaded_app", None)
    for _ in range(16):  # the app, inside uvicorn's wrapping middleware
        if app is None:
            return None
        if isinstance(app, FastAPI):
            return stopping_event(app)
        app = getattr(app, "app", None)
    return None


class _Worker(multiprocess.Process):
    """One of uvicorn's worker processes, serving with :class:`Server` on a socket of its own."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = Server(config=self.config, settle=True)
        return self._server

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # runs in the worker
        try:
            own = port_socket(self.config.host, self.config.port, shared=True)
        except OSError as exc:
            log.error("cannot listen on %s:%s: %s", self.config.host, self.config.port, exc)
            sys.exit(STARTUP_FAILURE)  # the supervisor stops instead of restarting us
        server = self.server
        if isinstance(server, Server):
            server.balancer = Balancer(LoadTable(load_table_path(self.config.host, self.config.port)))
        super().target([own])


def port_socket(host: str, port: int, *, shared: bool) -> socket.socket:
    """A TCP socket bound to ``host:port``; ``shared``: with ``SO_REUSEPORT``, one of several listening on it."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if shared:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def stopping_event(app: FastAPI) -> threading.Event:
    event = getattr(app.state, "stopping", None)
    if not isinstance(event, threading.Event):
        event = threading.Event()
        app.state.stopping = event
    return event


def app_from_settings() -> FastAPI:
    """The app of one worker process: the platform from ``LIANFANG_*`` settings (the parent
    has made the key and migrated the schema already)."""
    from lianfang.api.app import create_app
    from lianfang.platform import Platform
    from lianfang.settings import Settings

    return create_app(Platform(Settings()))


def make_server(app: FastAPI, *, settle: bool = False, **options: Any) -> Server:
    """A uvicorn server for ``app`` (``options``: uvicorn.Config keywords; ``settle``: see :class:`Server`)."""
    options.setdefault("timeout_graceful_shutdown", 10)
    return Server(uvicorn.Config(app, **options), stopping_event(app), settle=settle)


def run(app: FastAPI, **options: Any) -> None:
    """Serve ``app`` in this process until SIGINT or SIGTERM; the process is the server's alone."""
    make_server(app, settle=True, **options).run()


def run_workers(workers: int, **options: Any) -> None:
    """Serve :data:`APP_FACTORY` in ``workers`` processes (``options``: uvicorn.Config keywords)
    until SIGINT or SIGTERM."""
    options.setdefault("timeout_graceful_shutdown", 10)
    config = uvicorn.Config(APP_FACTORY, factory=True, workers=workers, **options)
    # the port must be free: a plain bind fails where anything listens, sharing or not (a
    # second lianfang on the same port would otherwise quietly take half the connections);
    # the lock covers the moments before this one's workers listen
    with _port_lock(config.host, config.port):
        port_socket(config.host, config.port, shared=False).close()
        _serve_workers(config)


def _serve_workers(config: uvicorn.Config) -> None:
    # uvicorn's supervisor makes its worker processes from this module's ``Process``
    real = multiprocess.Process
    multiprocess.Process = _Worker  # type: ignore[misc]
    try:
        multiprocess.Multiprocess(config, sockets=[]).run()
    finally:
        multiprocess.Process = real  # type: ignore[misc]


def port_lock_path(host: str, port: int) -> Path:
    """The lock a supervisor holds while it serves ``host:port`` (one per user: only the same user's
    sockets can share a port)."""
    return Path(tempfile.gettempdir()) / f"lianfang-serve-{os.getuid()}-{host.replace(':', '_')}-{port}.lock"


def load_table_path(host: str, port: int) -> Path:
    """The workers' shared table of connections per worker (:class:`LoadTable`)."""
    return port_lock_path(host, port).with_suffix(".load")


@contextmanager
def _port_lock(host: str, port: int) -> Iterator[None]:
    path = port_lock_path(host, port)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OSError(errno.EADDRINUSE, "another lianfang serve is starting on this port") from None
        yield
    finally:
        os.close(fd)  # releases the lock


__all__ = ["APP_FACTORY", "Server", "app_from_settings", "make_server", "run", "run_workers", "settle_heap",
           "stopping_event"]
