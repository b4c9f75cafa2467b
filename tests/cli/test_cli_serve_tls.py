"""``lianfang serve --tls`` really serves HTTPS with the demo CA, and --client-cert requires a client certificate."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from lianfang.settings import Settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(settings: Settings, *extra: str) -> Iterator[tuple[int, Path]]:
    port = free_port()
    env = {**os.environ, "LIANFANG_VAR_DIR": str(settings.var_dir),
           "LIANFANG_DATABASE_URL": settings.resolved_database_url()}
    proc = subprocess.Popen([sys.executable, "-m", "lianfang", "serve", "--tls", "--port", str(port), *extra],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    tls = settings.var_dir / "tls"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("lianfang serve exited") from None
                time.sleep(0.2)
        yield port, tls
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.mark.slow
def test_https_with_the_demo_ca(settings: Settings) -> None:
    with serving(settings) as (port, tls):
        assert (tls / "server.key").stat().st_mode & 0o077 == 0
        res = httpx.get(f"https://127.0.0.1:{port}/health", verify=ssl.create_default_context(cafile=tls / "ca.pem"))
        assert res.json() == {"status": "ok"}
        with pytest.raises(httpx.ConnectError):  # not trusted without the demo CA
            httpx.get(f"https://127.0.0.1:{port}/health")
        with pytest.raises(httpx.HTTPError):  # and no plain HTTP on the TLS port
            httpx.get(f"http://127.0.0.1:{port}/health")


@pytest.mark.slow
def test_client_certificate_mode(settings: Settings) -> None:
    from lianfang.crypto.tls import make_tls

    make_tls(settings.var_dir / "tls")
    with serving(settings, "--client-cert") as (port, tls):
        ctx = ssl.create_default_context(cafile=tls / "ca.pem")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"https://127.0.0.1:{port}/health", verify=ctx)
        ctx.load_cert_chain(tls / "client.pem", tls / "client.key")
        assert httpx.get(f"https://127.0.0.1:{port}/health", verify=ctx).status_code == 200


def test_plain_http_stays_on_loopback(settings: Settings) -> None:
    env = {**os.environ, "LIANFANG_VAR_DIR": str(settings.var_dir),
           "LIANFANG_DATABASE_URL": settings.resolved_database_url()}
    out = subprocess.run([sys.executable, "-m", "lianfang", "serve", "--host", "0.0.0.0"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--tls" in out.stdout
