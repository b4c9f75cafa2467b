"""Serving the app with uvicorn so that long-lived responses end when the server stops.

uvicorn's graceful shutdown waits for open connections to finish; a live stream (the
watch-list hits, server-sent events) never finishes by itself. :class:`Server` sets
the app's ``state.stopping`` event before that wait, the streams see it within one
poll interval and end, and the shutdown completes. ``timeout_graceful_shutdown``
remains as a backstop.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import uvicorn
from fastapi import FastAPI


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, stopping: threading.Event):
        super().__init__(config)
        self.stopping = stopping

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.stopping.set()  # before uvicorn waits for open responses to finish
        await super().shutdown(sockets)


def stopping_event(app: FastAPI) -> threading.Event:
    event = getattr(app.state, "stopping", None)
    if not isinstance(event, threading.Event):
        event = threading.Event()
        app.state.stopping = event
    return event


def make_server(app: FastAPI, **options: Any) -> Server:
    """A uvicorn server for ``app`` (``options``: uvicorn.Config keywords)."""
    options.setdefault("timeout_graceful_shutdown", 10)
    return Server(uvicorn.Config(app, **options), stopping_event(app))


def run(app: FastAPI, **options: Any) -> None:
    make_server(app, **options).run()


__all__ = ["Server", "make_server", "run", "stopping_event"]
