"""What every page shares: who is looking, rendering in their language, role and CSRF checks, the nav.

A page route takes one of the viewer dependencies and renders a template:

    @router.get("/things")
    def things(v: Viewing) -> Response:
        return v.render("things.html", items=...)

    @router.post("/things/{id}/close")
    def close(id: int, v: Posting) -> Response:        # session + CSRF token checked
        ...service call...
        return v.back("/things", done="closed")        # 303, "done_closed" shown on arrival

``Viewing``/``Posting`` accept any signed-in user; ``viewer_with(Role.X, ...)`` and
``poster_with(...)`` also require one of the roles, fail closed: anyone else gets a 403
page and the refusal is audited (``authz.denied``), as in the API. A signed-out visitor
is sent to the sign-in page and brought back afterwards.

Forms carry the session's CSRF token as the ``csrf_token`` field (``{{ csrf_field() }}``
in templates); htmx requests send it as the ``X-CSRF-Token`` header (``static/app.js``).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup, escape
from starlette.routing import Match

from lianfang.access import AccessError
from lianfang.api.security import CSRF_HEADER, SESSION_COOKIE, client_of, now_ms
from lianfang.audit import AuditEvent, AuditUnavailable
from lianfang.identity import Session, User
from lianfang.platform import Platform
from lianfang.policy.decision import actor_reach
from lianfang.policy.roles import Role
from lianfang.web.i18n import label, labels, lang_of, texts

LANG_COOKIE = "lf_lang"
PRE_CSRF_COOKIE = "lf_csrf"
APPROVERS = (Role.CITY_APPROVER, Role.PROVINCE_APPROVER)

env = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- times ---------------------------------------------------------------------------------


@pass_context
def _when(ctx: Context, ms: int | None, seconds: bool = True) -> str:
    """Epoch milliseconds as local time in the platform's zone (Asia/Shanghai), e.g. 2026-05-01 14:03:22."""
    if ms is None:
        return ""
    local = datetime.fromtimestamp(int(ms) / 1000, UTC).astimezone(ctx["tz"])
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


@pass_context
def _label(ctx: Context, value: object, kind: str) -> str:
    return label(kind, value, ctx["lang"])


@pass_context
def _purpose(ctx: Context, code: str) -> str:
    names = ctx["plat"].policy.purposes.get(code)
    return str(names.get(ctx["lang"], code)) if names else code


def _show(value: object) -> str:
    """A value from a JSON detail or evidence: lists joined, nothing as a dash."""
    if value is None:
        return "—"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_show(v)}" for k, v in value.items())
    return str(value)


env.filters["when"] = _when
env.filters["show"] = _show
env.filters["label"] = _label
env.filters["purpose"] = _purpose


def local_ms(text: str, plat: Platform) -> int | None:
    """A ``datetime-local`` form value (``2026-05-01T14:03``) read in the platform's zone, as epoch ms."""
    text = text.strip()
    if not text:
        return None
    value = datetime.fromisoformat(text)  # ValueError for anything else
    if value.tzinfo is None:
        value = value.replace(tzinfo=plat.tz)
    return int(value.timestamp() * 1000)


# -- navigation ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    """One entry of the top navigation.

    ``key`` names the text (``t.nav_<key>``) and the element id (``nav-<key>``). The item
    shows when ``show(viewer)`` is true and a page answers GET at ``href`` — so an entry
    for a page not built yet stays hidden instead of leading nowhere.
    """

    key: str
    href: str
    show: Callable[[Viewer], bool]
    order: int = 100


def reads_data(v: Viewer) -> bool:
    """True for users whose roles read records at all (not administrators or auditors)."""
    reach = actor_reach(v.plat.policy, v.user.actor(), v.user.unit_code[:4] + "00")
    return not (reach.own is None and reach.other is None and reach.hits is None)


NAV: list[NavItem] = [
    NavItem("search", "/search", reads_data, 10),
    NavItem("trajectories", "/trajectories", reads_data, 20),
    NavItem("watch", "/watch", reads_data, 30),
    NavItem("access", "/access", reads_data, 40),
    NavItem("approvals", "/approvals", lambda v: v.has(*APPROVERS), 50),
    NavItem("audit", "/audit", lambda v: v.has(Role.AUDITOR), 60),
]


def add_nav(item: NavItem) -> None:
    """Register a nav entry (replacing one with the same key)."""
    NAV[:] = [n for n in NAV if n.key != item.key] + [item]


def _answers_get(request: Request, path: str) -> bool:
    """True when some route of the app answers GET at ``path`` (asked of the routes themselves, so
    routers included at any depth count)."""
    cache: dict[str, bool] | None = getattr(request.app.state, "page_paths", None)
    if cache is None:
        cache = request.app.state.page_paths = {}
    if path not in cache:
        scope = {"type": "http", "path": path, "method": "GET", "root_path": "", "headers": [], "query_string": b""}
        cache[path] = any(route.matches(scope)[0] is Match.FULL for route in request.app.routes)
    return cache[path]


# -- the viewer ----------------------------------------------------------------------------


class PageExit(Exception):
    """Stop a page and answer with ``response`` (a redirect to sign in, a 403 page …)."""

    def __init__(self, response: Response):
        super().__init__(response.status_code)
        self.response = response


def page_exit(request: Request, exc: Exception) -> Response:
    """The app's handler for :class:`PageExit`."""
    assert isinstance(exc, PageExit)
    return exc.response


def platform_of(request: Request) -> Platform:
    plat: Platform = request.app.state.platform
    return plat


def lang_for(request: Request) -> str:
    return lang_of(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def session_of(request: Request) -> Session | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return platform_of(request).auth.resume(token, now_ms=now_ms()) if token else None


def lang_switch_url(request: Request, lang: str) -> str:
    """This page in the other language (the query string kept)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    query.append(("lang", "en" if lang == "zh" else "zh"))
    return f"{request.url.path}?{urlencode(query)}"


def safe_next(target: str | None) -> str:
    """A local path to return to after sign-in; anything else (another site, a scheme) becomes ``/``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def render(request: Request, template: str, *, status: int = 200, viewer: Viewer | None = None,
           **context: Any) -> HTMLResponse:
    """Render ``template`` in the request's language with the frame's context."""
    plat = platform_of(request)
    lang = lang_for(request)
    t = texts(lang)
    base: dict[str, Any] = {
        "request": request, "plat": plat, "tz": plat.tz, "lang": lang, "t": t, "user": None,
        "csrf_token": "", "nav": [], "active": "", "unread": 0, "done": None,
        "lang_url": lang_switch_url(request, lang), "labels": lambda kind: labels(kind, lang),
    }  # fmt: skip
    if viewer is not None:
        base.update(viewer.frame())
    base.update(context)
    base["csrf_field"] = lambda: Markup('<input type="hidden" name="csrf_token" value="{}">').format(
        escape(base["csrf_token"]))
    response = HTMLResponse(env.get_template(template).render(**base), status_code=status)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", secure=plat.settings.cookie_secure)
    return response


@dataclass
class Viewer:
    """The signed-in user looking at a page."""

    request: Request
    session: Session
    plat: Platform = field(init=False)

    def __post_init__(self) -> None:
        self.plat = platform_of(self.request)

    @property
    def user(self) -> User:
        return self.session.user

    @property
    def client(self) -> str:
        return client_of(self.request)

    @property
    def lang(self) -> str:
        return lang_for(self.request)

    @property
    def t(self) -> dict[str, str]:
        return texts(self.lang)

    def has(self, *roles: Role) -> bool:
        return bool(self.user.roles & frozenset(roles))

    def frame(self) -> dict[str, Any]:
        """What the layout needs: the user, their CSRF token, the nav, the unread badge, a done message."""
        nav = sorted((n for n in NAV if _answers_get(self.request, n.href) and n.show(self)), key=lambda n: n.order)
        here = self.request.url.path
        active = next((n.key for n in nav if here == n.href or here.startswith(n.href + "/")), "")
        done = self.request.query_params.get("done", "")
        t = texts(self.lang)
        return {
            "user": self.user, "csrf_token": self.session.csrf_token, "nav": nav, "active": active,
            "unread": len(self.plat.approvals.notifications(self.user)),
            "done": t.get(f"done_{done}") if done.isidentifier() else None,
        }  # fmt: skip

    def render(self, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status=status, viewer=self, **context)

    def refuse(self, status: int, title_key: str, message: str | None = None) -> PageExit:
        """A page saying why not (403, 404, 409 …), to raise."""
        return PageExit(self.render("error.html", status=status, title=self.t[title_key], message=message))

    def back(self, path: str, *, done: str | None = None) -> RedirectResponse:
        """303 to ``path`` (a local path), with a done message key."""
        target, hash_, fragment = safe_next(path).partition("#")
        if done:
            target += ("&" if "?" in target else "?") + urlencode({"done": done})
        return RedirectResponse(target + hash_ + fragment, status_code=303)


def _signed_in(request: Request) -> Viewer:
    session = session_of(request)
    if session is None:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        nxt = "" if here == "/" else "?" + urlencode({"next": here})
        raise PageExit(RedirectResponse(f"/sign-in{nxt}", status_code=303))
    return Viewer(request, session)


def _check_csrf(v: Viewer, sent: str) -> None:
    token = sent or v.request.headers.get(CSRF_HEADER, "")
    if not token or not hmac.compare_digest(token, v.session.csrf_token):
        raise v.refuse(403, "forbidden_title", v.t["csrf_refused"])


def forbid(v: Viewer, needs: Iterable[Role]) -> PageExit:
    """A 403 page for a viewer without the role a page needs; the refusal is audited (``authz.denied``)."""
    route = v.request.scope.get("route")
    try:
        v.plat.audit.record(AuditEvent(
            action="authz.denied", outcome="denied", at_ms=now_ms(), **v.user.audit_fields(),
            target=(f"route:{getattr(route, 'name', None) or 'unknown'}",), client=v.client,
            detail={"needs": sorted(r.value for r in needs), "method": v.request.method, "via": "web"},
        ))  # fmt: skip
    except AuditUnavailable:
        return v.refuse(503, "error_title", v.t["err_audit"])
    return v.refuse(403, "forbidden_title", v.t["forbidden"])


def _check_roles(v: Viewer, allowed: frozenset[Role]) -> None:
    if allowed and not v.user.roles & allowed:
        raise forbid(v, allowed)


def viewer_with(*roles: Role) -> Callable[[Request], Viewer]:
    """Dependency: the signed-in viewer holding one of ``roles`` (any signed-in user when none are named)."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> Viewer:
        v = _signed_in(request)
        _check_roles(v, allowed)
        return v

    return dependency


def poster_with(*roles: Role) -> Callable[..., Viewer]:
    """Dependency for form posts: as :func:`viewer_with`, and the session's CSRF token must come with it."""
    allowed = frozenset(roles)

    def dependency(request: Request, csrf_token: str = Form("", max_length=128)) -> Viewer:
        v = _signed_in(request)
        _check_csrf(v, csrf_token)
        _check_roles(v, allowed)
        return v

    return dependency


#: HTTP status of a refused service call, by :class:`AccessError` kind (as in the API)
ERROR_STATUS = {"invalid": 422, "forbidden": 403, "not_found": 404, "conflict": 409}


def city_label(plat: Platform, code: str | None) -> str:
    """A city's name from the jurisdiction reference data, or its code."""
    if not code:
        return ""
    return plat.city_labels.get(code, code)


#: parameters of a refusal shown by their names in the reader's language (the rest as they are)
_PARAM_LABELS = {"status": "request_status", "level": "level"}


def access_problem(v: Viewer, exc: AccessError) -> str:
    """What a refused access request or decision says, in the reader's language when its problem has a
    text (``access_problem_<code>``, filled in from ``exc.params``), else the service's message."""
    text = v.t.get(f"access_problem_{exc.code}") if exc.code else None
    if text is None:
        return str(exc)
    lang = v.lang

    def shown(k: str, val: Any) -> Any:
        if k in _PARAM_LABELS:
            return label(_PARAM_LABELS[k], val, lang)
        if k == "city" and val:
            return city_label(v.plat, val)  # 云州市 rather than 360200
        return val

    return text.format(**{k: shown(k, val) for k, val in exc.params.items()})


@contextmanager
def service_call(v: Viewer) -> Iterator[None]:
    """Run a service call for the viewer; a refusal becomes a page saying why (the service audited it)."""
    try:
        yield
    except AccessError as exc:
        raise v.refuse(ERROR_STATUS.get(exc.kind, 400), f"err_{exc.kind}" if exc.kind in ERROR_STATUS
                       else "error_title", access_problem(v, exc)) from None
    except AuditUnavailable:
        raise v.refuse(503, "error_title", v.t["err_audit"]) from None


Viewing = Annotated[Viewer, Depends(viewer_with())]
Posting = Annotated[Viewer, Depends(poster_with())]

__all__ = [
    "APPROVERS",
    "ERROR_STATUS",
    "LANG_COOKIE",
    "NAV",
    "PRE_CSRF_COOKIE",
    "NavItem",
    "PageExit",
    "Posting",
    "Viewer",
    "Viewing",
    "access_problem",
    "add_nav",
    "city_label",
    "env",
    "forbid",
    "local_ms",
    "page_exit",
    "platform_of",
    "poster_with",
    "reads_data",
    "render",
    "safe_next",
    "service_call",
    "session_of",
    "viewer_with",
]
