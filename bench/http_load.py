"""A light HTTP/1.1 load generator: keep-alive connections driven by one asyncio loop.

The server and its clients share the machine's cores, so every millisecond of CPU the
clients spend is taken from the server being measured. A thread per client with a full
HTTP client library cost about 8 ms of CPU per request here, as much as the server
itself; this one writes prepared request bytes and reads the answer with the least
parsing HTTP/1.1 allows (status line, ``Content-Length`` or chunked body), well under
a tenth of a millisecond per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    close: bool = False  # the server said ``Connection: close``: the next request needs a new connection


def request_bytes(method: str, path: str, host: str, headers: dict[str, str], *,
                  params: dict[str, str] | None = None, body: bytes | None = None) -> bytes:
    """One HTTP/1.1 request, keep-alive, ready to send (the path is percent-encoded here)."""
    target = quote(path, safe="/")
    if params:
        target += "?" + urlencode(params)
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", *(f"{k}: {v}" for k, v in headers.items())]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> Answer:
    """Send one request on an open connection and read its whole answer."""
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    chunked = close = False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            close = True
    if length is not None:
        return Answer(status, await reader.readexactly(length), close)
    if not chunked:
        raise ValueError("an answer without Content-Length or chunked encoding")
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return Answer(status, b"".join(parts), close)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


@dataclass
class Timed:
    """Per client: (tag, milliseconds) of each timed request, and the errors seen."""

    latencies: list[tuple[str, float]]
    errors: list[str]
    reconnects: int = 0  # answers that closed the connection (the server evening out its workers' shares)


def run(host: str, port: int, clients: int, warmup: int, per_client: int,
        make: Callable[[int], tuple[str, bytes]], check: Callable[[str, Answer], str | None],
        *, on_started: Callable[[], None] = lambda: None,
        on_progress: Callable[[int], None] = lambda n: None) -> tuple[list[Timed], float]:
    """``clients`` connections; each makes ``warmup`` requests, waits for all the others, then
    ``per_client`` timed ones. ``make(i)`` gives request ``i`` as (tag, bytes), numbering the
    requests of all clients apart; ``check(tag, answer)`` returns an error or None.

    Returns each client's timings and the seconds from the start of the timed part to the end."""
    return asyncio.run(_run(host, port, clients, warmup, per_client, make, check, on_started, on_progress))


async def _run(host: str, port: int, clients: int, warmup: int, per_client: int,
               make: Callable[[int], tuple[str, bytes]], check: Callable[[str, Answer], str | None],
               on_started: Callable[[], None], on_progress: Callable[[int], None]) -> tuple[list[Timed], float]:
    stride = warmup + per_client
    ready = 0
    go = asyncio.Event()
    out = [Timed([], []) for _ in range(clients)]
    clock = time.perf_counter

    async def client(k: int) -> None:
        nonlocal ready
        conn: list[Any] = list(await asyncio.open_connection(host, port))

        async def send(data: bytes) -> Answer:
            if conn[1] is None:  # the server closed the last one (Connection: close): a new connection,
                conn[:] = await asyncio.open_connection(host, port)  # its setup timed with the request
            answer = await exchange(conn[0], conn[1], data)
            if answer.close:
                conn[1].close()
                conn[:] = [None, None]
            return answer

        try:
            for j in range(warmup):
                tag, data = make(k * stride + j)
                await send(data)
            ready += 1
            if ready == clients:
                on_started()
                go.set()
            await go.wait()
            mine = out[k]
            for j in range(warmup, stride):
                tag, data = make(k * stride + j)
                t0 = clock()
                answer = await send(data)
                mine.latencies.append((tag, (clock() - t0) * 1000))
                mine.reconnects += answer.close
                err = check(tag, answer)
                if err:
                    mine.errors.append(err)
        finally:
            if conn[1] is not None:
                conn[1].close()

    async def progress() -> None:
        await go.wait()
        while True:
            on_progress(sum(len(t.latencies) for t in out))
            await asyncio.sleep(0.2)

    reporter = asyncio.create_task(progress())
    tasks = [asyncio.create_task(client(k)) for k in range(clients)]
    started: asyncio.Task[Any] = asyncio.create_task(go.wait())
    done, _ = await asyncio.wait({started, *tasks}, return_when=asyncio.FIRST_COMPLETED)
    if started not in done:  # a client failed while warming up
        started.cancel()
        reporter.cancel()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for t in done:
            t.result()
    start = clock()
    try:
        await asyncio.gather(*tasks)
    finally:
        reporter.cancel()
    return out, clock() - start
