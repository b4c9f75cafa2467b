"""Cross-city one-click query: recognising the query, finding it in every city, entity pages."""

from lianfang.search.engine import Group, Searcher, SearchResult
from lianfang.search.entities import Entities
from lianfang.search.recognise import Query, QueryKind, Recogniser, Unrecognised

__all__ = ["Entities", "Group", "Query", "QueryKind", "Recogniser", "SearchResult", "Searcher", "Unrecognised"]
