"""Data commands (``lianfang search``, ``lianfang track``) go through the HTTP API with an API token.

Reading data from the command line is reading as a user: the server decides every
field with the policy and writes the audit trail, exactly as for the web UI. The
command therefore needs the server's address and a token with scope ``data:read``
(``lianfang tokens create USER --name cli --scope data:read``), from options or from the
environment (``LIANFANG_URL``, ``LIANFANG_TOKEN``). The token is never printed.
"""

from __future__ import annotations

from typing import Any

import httpx
import typer

from lianfang.cli.common import fail

URL_OPTION = typer.Option("http://127.0.0.1:8000", "--url", envvar="LIANFANG_URL", help="Server address.")
TOKEN_OPTION = typer.Option("", "--token", envvar="LIANFANG_TOKEN", show_default=False,
                            help="API token with scope data:read (or set LIANFANG_TOKEN).")


class ApiClient:
    """A thin client: GET with the Bearer token, errors turned into a clear message and exit code."""

    def __init__(self, url: str, token: str, *, transport: httpx.BaseTransport | None = None, timeout: float = 30.0):
        if not token:
            fail("需要 API 令牌 an API token is needed: --token or LIANFANG_TOKEN "
                 "(lianfang tokens create USER --name cli --scope data:read)")
        self.client = httpx.Client(base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"},
                                   timeout=timeout, transport=transport)

    def get_raw(self, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        try:
            res = self.client.get(path, params=clean)
        except httpx.HTTPError as exc:
            fail(f"无法连接服务 cannot reach the server at {self.client.base_url}: {exc.__class__.__name__}")
        if res.status_code >= 400:
            fail(f"服务拒绝 the server refused ({res.status_code}): {_message(res)}", code=2)
        return res

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.get_raw(path, params).json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """POST a JSON body (searches carry personal queries: never in a URL)."""
        try:
            res = self.client.post(path, json=body)
        except httpx.HTTPError as exc:
            fail(f"无法连接服务 cannot reach the server at {self.client.base_url}: {exc.__class__.__name__}")
        if res.status_code >= 400:
            fail(f"服务拒绝 the server refused ({res.status_code}): {_message(res)}", code=2)
        return res.json()

    def delete(self, path: str) -> Any:
        """DELETE (ending a watch-list entry); the answer's JSON."""
        try:
            res = self.client.delete(path)
        except httpx.HTTPError as exc:
            fail(f"无法连接服务 cannot reach the server at {self.client.base_url}: {exc.__class__.__name__}")
        if res.status_code >= 400:
            fail(f"服务拒绝 the server refused ({res.status_code}): {_message(res)}", code=2)
        return res.json()

    def close(self) -> None:
        self.client.close()


def _message(res: httpx.Response) -> str:
    try:
        body = res.json()
    except ValueError:
        return res.text[:200]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("reason") or detail)
    return str(detail)


__all__ = ["TOKEN_OPTION", "URL_OPTION", "ApiClient"]
