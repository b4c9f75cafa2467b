"""Cross-city one-click query (跨市数据一键查询): one query, all 16 cities, every row through the policy.

``Searcher.search`` recognises the query, looks in every category the standard
says can hold it (:mod:`lianfang.search.targets`), ranks the matches (key field
before reference before sounds-alike, newest first), pages each group, and
projects every row of the page for the user (:class:`~lianfang.access.projection.Projector`):
readable rows in full, masked hits with "request access", the rest only counted.
The search is written to the audit trail — purpose, case number, the query as a
blind-index digest when it is personal, and the IDs of the records returned —
before anything is returned.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Row, Table, bindparam, func, literal_column, select, union, union_all

from lianfang.access.approvals import Approvals
from lianfang.access.projection import Projector, Reading, RecordView, person_key
from lianfang.access.records import RequestRefused
from lianfang.audit import Audit, AuditEvent
from lianfang.identity.directory import User
from lianfang.policy.decision import Effect, Purpose, actor_reach, purpose_problem
from lianfang.search.recognise import Query, QueryKind, Recogniser
from lianfang.search.targets import GROUP_ORDER, Target, Targets
from lianfang.standard.levels import Level
from lianfang.store.engine import read_only

#: Candidates a name narrowed by birth year reads per column (the year is checked on readable values).
NARROW_CAP = 1000


@dataclass
class Group:
    category: str
    total: int  # matching records, whatever the user may see
    page: int
    size: int
    items: list[dict[str, Any]] = field(default_factory=list)
    withheld: int = 0  # matches on this page the user may not even see as a masked hit
    needs_case_no: int = 0  # of those, rows a case number would turn into hits
    capped: bool = False  # a name narrowed by birth year matched more than NARROW_CAP: only the newest checked

    def as_dict(self) -> dict[str, Any]:
        return {"category": self.category, "total": self.total, "page": self.page, "size": self.size,
                "items": self.items, "withheld": self.withheld, "needs_case_no": self.needs_case_no,
                "capped": self.capped}


@dataclass
class SearchResult:
    query: Query
    groups: list[Group]

    def as_dict(self) -> dict[str, Any]:
        q = self.query
        out: dict[str, Any] = {"kind": q.kind.value, "groups": [g.as_dict() for g in self.groups]}
        if not q.personal:
            out["value"] = q.value  # plates, case numbers, device IDs are not personal data
        if q.city_code:
            out["city_code"] = q.city_code
        if q.birth_year:
            out["birth_year"] = q.birth_year
        return out


@dataclass(frozen=True)
class _Plan:
    category: str
    table: Table
    tcol: Any  # newest first by this column (the category's event time, else the record id)
    by_city: bool  # the query names a city and the category has one
    keyed: list[tuple[Target, Any]]  # each searched column's target and the value it must equal
    limit: int  # matches read per column
    narrowing: bool  # a name narrowed by birth year: all candidates up to NARROW_CAP are checked


@dataclass(frozen=True)
class _Candidate:
    record_id: int
    score: float
    at: int
    match: str


def _count(table: Table, columns: tuple[str, ...], city: list[Any]) -> Any:
    """How many records hold any of the keys (``key0``, ``key1``, …), one per column.

    Several columns (a name and its sound) are counted as the union of each column's record ids, not
    with ``OR``: PostgreSQL answers an ``OR`` by visiting every matching row in the table (17–24 ms for
    a common name among a million persons), the union from the indexes alone (1.4 ms)."""
    if len(columns) == 1:
        return select(func.count()).select_from(table).where(table.c[columns[0]] == bindparam("key0"), *city)
    ids = union(*(select(table.c.id).where(table.c[name] == bindparam(f"key{i}"), *city)
                  for i, name in enumerate(columns))).subquery("matched")
    return select(func.count()).select_from(ids)


class Searcher:
    def __init__(self, engine: Engine, targets: Targets, projector: Projector, approvals: Approvals, audit: Audit,
                 recogniser: Recogniser):
        self.engine = engine
        self.targets = targets
        self.projector = projector
        self.approvals = approvals
        self.audit = audit
        self.recogniser = recogniser
        # statements built once per shape: building one, and SQLAlchemy's cache key for it, cost more than
        # running it (the values travel as bound parameters)
        self._statements: dict[tuple[Any, ...], Any] = {}

    def _statement(self, shape: tuple[Any, ...], build: Any) -> Any:
        stmt = self._statements.get(shape)
        if stmt is None:
            stmt = self._statements[shape] = build()
        return stmt

    # -- the request ---------------------------------------------------------------------------------------------

    def reading(self, user: User, purpose: Purpose | None, now_ms: int) -> Reading:
        """The reader's context, refusing at once what no row could change (no purpose, no data access)."""
        actor = user.actor()
        reach = actor_reach(self.projector.policy, actor, actor.city_code or actor.unit_code)
        if not actor.roles or (reach.own is None and reach.other is None and reach.hits is None):
            raise RequestRefused("deny.no_data_access")
        problem = purpose_problem(self.projector.policy, purpose, Level.PUBLIC)
        if problem is not None:
            raise RequestRefused(problem)
        return self.projector.reading(user, purpose, self.approvals.grants_for(user.id, now_ms), now_ms)

    def search(self, user: User, text: str, purpose: Purpose | None, *, now_ms: int, client: str | None = None,
               kind: QueryKind | None = None, category: str | None = None, page: int = 1,
               size: int = 20, action: str = "data.search", detail: dict[str, Any] | None = None) -> SearchResult:
        """Search every city; raises ``Unrecognised`` (bad query) or ``RequestRefused`` (audited).

        ``action`` names the audit event: ``data.export`` when the rows leave as a file
        (``detail`` adds to the event's detail, e.g. the file format).
        """
        query = self.recogniser.recognise(text, kind)
        extra = dict(detail or {})
        try:
            reading = self.reading(user, purpose, now_ms)
        except RequestRefused as exc:
            self._audit(user, query, purpose, now_ms, client, "denied", [], {**extra, "reason": exc.reason}, action)
            raise
        groups = self.find(reading, query, category=category, page=page, size=size)
        self._audit(user, query, purpose, now_ms, client, _outcome(groups), groups, extra, action)
        return SearchResult(query, groups)

    # -- finding -------------------------------------------------------------------------------------------------

    def find(self, reading: Reading, query: Query, *, category: str | None = None, page: int = 1, size: int = 20,
             exclude: frozenset[str] = frozenset()) -> list[Group]:
        """Ranked, paged, projected groups for ``query`` (no audit: the caller records what it returns)."""
        by_category: dict[str, list[Target]] = {}
        for target in self.targets.for_kind(query.kind):
            if category is None or target.category == category:
                by_category.setdefault(target.category, []).append(target)
        order = sorted(by_category, key=lambda c: GROUP_ORDER.index(c) if c in GROUP_ORDER else 99)
        plans = [self._plan(query, cat, by_category[cat], page, size, exclude) for cat in order]
        with read_only(self.engine) as conn:  # one connection for the whole search
            matches = self._matches(conn, query, plans)
            return [self._group(conn, reading, query, plan, matches, page, size, exclude) for plan in plans]

    def _plan(self, query: Query, category: str, targets: list[Target], page: int, size: int,
              exclude: frozenset[str]) -> _Plan:
        """Where one category is looked in: each searched column with its key, and how many matches to read."""
        table = self.targets.table(category)
        tcol_name = self.targets.standard.category(category).time_field
        keyed: list[tuple[Target, Any]] = []
        for target in targets:
            key = target.key(query, self.projector.blind, self.targets.encrypted(target))
            if key is not None:
                keyed.append((target, key))
        narrowing = query.kind is QueryKind.NAME and query.birth_year is not None
        mine = sum(1 for e in exclude if e.startswith(f"{category}:"))
        return _Plan(category, table, table.c[tcol_name] if tcol_name else table.c.id,
                     bool(query.city_code) and "city_code" in table.c, keyed,
                     NARROW_CAP if narrowing else page * size + mine, narrowing)

    def _matches(self, conn: Connection, query: Query, plans: list[_Plan]) -> dict[tuple[str, int], list[Any]]:
        """Every searched column's newest matches, (id, time) by (category, column number), in one statement:
        a citizen ID is looked for in five categories, and each statement is a round trip to PostgreSQL."""
        arms = [(plan, i) for plan in plans for i in range(len(plan.keyed))]
        if not arms:
            return {}
        shape = ("matches", tuple((plan.category, plan.keyed[i][0].column(plan.table).name, plan.by_city)
                                  for plan, i in arms))

        def build() -> Any:
            selects = []
            for n, (plan, i) in enumerate(arms):
                t = plan.table
                city = [t.c.city_code == bindparam("city")] if plan.by_city else []
                inner = (select(t.c.id.label("id"), plan.tcol.label("at"))
                         .where(plan.keyed[i][0].column(t) == bindparam(f"key{n}"), *city)
                         .order_by(plan.tcol.desc(), t.c.id.desc()).limit(bindparam(f"limit{n}"))
                         .subquery(f"m{n}"))
                selects.append(select(literal_column(str(n)).label("arm"), inner.c.id, inner.c.at))
            return selects[0] if len(selects) == 1 else union_all(*selects)

        params: dict[str, Any] = {"city": query.city_code} if any(p.by_city for p in plans) else {}
        for n, (plan, i) in enumerate(arms):
            params[f"key{n}"] = plan.keyed[i][1]
            params[f"limit{n}"] = plan.limit
        out: dict[tuple[str, int], list[Any]] = {(plan.category, i): [] for plan, i in arms}
        for arm, rid, at in conn.execute(self._statement(shape, build), params):
            plan, i = arms[int(arm)]
            out[(plan.category, i)].append((rid, at))
        return out

    def _group(self, conn: Connection, reading: Reading, query: Query, plan: _Plan,
               matches: dict[tuple[str, int], list[Any]], page: int, size: int, exclude: frozenset[str]) -> Group:
        """One category: the candidates the page can need, ranked, projected, and the exact count.

        Each searched column gives its newest ``page × size`` matches (plus any excluded ones):
        ranking is by the column's score, then time, so the page is always among them, however
        many records match — a plate seen 10,000 times reads 20 sighting IDs, not 10,000. The
        matches are counted only when some column had more than that; otherwise the candidates
        are all of them (most searches: one person, one vehicle, a few cases).
        """
        category, table, keyed, limit, narrowing = plan.category, plan.table, plan.keyed, plan.limit, plan.narrowing
        by_city = plan.by_city
        city = [table.c.city_code == bindparam("city")] if by_city else []
        params: dict[str, Any] = {"city": query.city_code} if by_city else {}
        group = Group(category, 0, page, size)
        if not keyed:
            return group
        found: dict[int, _Candidate] = {}
        excluded: set[int] = set()
        every_match_read = True  # no column had more matches than the limit
        for i, (target, _key) in enumerate(keyed):
            rows = matches[(category, i)]
            every_match_read = every_match_read and len(rows) < limit
            for rid, at in rows:
                if f"{category}:{rid}" in exclude:
                    excluded.add(rid)
                    continue
                prev = found.get(rid)
                if prev is None or prev.score < target.score:
                    match = target.field if target.mode == "exact" else f"{target.field}~sound"
                    found[rid] = _Candidate(int(rid), target.score, int(at or 0), match)
        if every_match_read:  # the candidates are all the matches: the count is known without asking
            total = len(found) + len(excluded)
        else:
            columns = tuple(t.column(table).name for t, _ in keyed)
            stmt = self._statement(("count", category, columns, by_city), lambda: _count(table, columns, city))
            total = conn.execute(stmt, {**params, **{f"key{i}": key for i, (_, key) in enumerate(keyed)}}
                                 ).scalar_one()
        ranked = sorted(found.values(), key=lambda c: (-c.score, -c.at, -c.record_id))
        group.total = max(total - len(excluded), len(ranked))
        group.capped = narrowing and total > NARROW_CAP
        chosen = ranked if narrowing else ranked[(page - 1) * size: page * size]
        if not chosen:
            return group
        stmt = self._statement(("rows", category), lambda: select(table).where(
            table.c.id.in_(bindparam("ids", expanding=True))))
        rows_by_id = {int(r.id): r for r in conn.execute(stmt, {"ids": [c.record_id for c in chosen]})}
        shown: list[tuple[_Candidate, RecordView]] = []
        for cand in chosen:
            row = rows_by_id.get(cand.record_id)
            if row is None:
                continue
            view = self.projector.project(reading, category, row)
            if view.effect is Effect.DENY:
                group.withheld += 1
                group.needs_case_no += view.reason == "deny.case_number_required"
                continue
            shown.append((cand, view))
        if narrowing:
            assert query.birth_year is not None
            shown = [(c, v) for c, v in shown if _born_in(v, query.birth_year)]
            group.total = len(shown)
            shown = shown[(page - 1) * size: page * size]
        group.items = [{**v.as_dict(), "score": c.score, "match": c.match} for c, v in shown]
        return group

    def row(self, category: str, record_id: int) -> Row[Any] | None:
        table = self.targets.table(category)
        with read_only(self.engine) as conn:
            return conn.execute(select(table).where(table.c.id == record_id)).first()

    # -- the audit event -----------------------------------------------------------------------------------------

    def _audit(self, user: User, query: Query, purpose: Purpose | None, now_ms: int, client: str | None,
               outcome: str, groups: list[Group], extra: dict[str, Any], action: str = "data.search") -> None:
        shown = [item for g in groups for item in g.items]
        detail: dict[str, Any] = {
            "kind": query.kind.value,
            "shown": dict(Counter(i["category"] for i in shown)),
            "masked": sum(1 for i in shown if i["access"] == Effect.MASK.value),
            "withheld": sum(g.withheld for g in groups),
            **extra,
        }
        levels = [Level(i["classification"]) for i in shown]
        if levels:
            detail["level"] = max(levels, key=lambda lv: lv.rank).value  # a protected person raises its alarm
        if query.kind is QueryKind.CITIZEN_ID:
            detail["person_digest"] = person_key(self.projector.blind, query.value)
        if query.city_code:
            detail["city_code"] = query.city_code
        self.audit.record(AuditEvent(
            action=action, outcome=outcome, at_ms=now_ms, **user.audit_fields(),
            target=(query_target(self.projector, query), *(f"{i['category']}:{i['id']}" for i in shown)),
            purpose=purpose.code if purpose else None,
            case_no=(purpose.case_no or None) if purpose else None,
            grant_id=next((g for i in shown for g in i["grants"]), None),
            result_count=len(shown), client=client, detail=detail,
        ))  # fmt: skip


def query_target(projector: Projector, query: Query) -> str:
    """How the audit trail names a query: personal values only as a blind-index digest."""
    if query.personal:
        return f"q_{query.kind.value}:{projector.blind.digest('query:' + query.kind.value, query.value).hex()}"
    return f"q_{query.kind.value}:{query.value}"


def _outcome(groups: list[Group]) -> str:
    items = [i for g in groups for i in g.items]
    if any(i["access"] == Effect.ALLOW.value for i in items):
        return "allow"
    if items:
        return "mask"
    return "none"


def _born_in(view: RecordView, year: int) -> bool:
    """Birth-year narrowing applies only where the user may read the birth date; masked hits stay."""
    born = view.values.get("birth_date")
    if view.effect is not Effect.ALLOW or born is None:
        return True
    return str(born)[:4] == str(year)


__all__ = ["NARROW_CAP", "Group", "SearchResult", "Searcher", "query_target"]
