"""Pages of long lists: the page number comes from a query parameter, the links keep the
other parameters (filters, and the page of another list on the same screen)."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web
from yarl import URL

PAGE_SIZE = 50
MAX_PAGE = 100_000  # further pages are shown as the last one asked for
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    number: int
    previous: str | None  # links to the neighbouring pages; None at either end
    next: str | None
    total: int | None = None  # when the query counted


class Pager:
    """Reads `?{param}=N` (1-based). Queries fetch `limit` rows, one more than a page holds,
    so that a next page is known to exist without counting."""

    def __init__(
        self,
        request: web.Request,
        param: str = "page",
        size: int = PAGE_SIZE,
        path: str | None = None,
    ) -> None:
        """`path`: the list's own address, for a list shown in answer to a form's POST."""
        self.param, self.size = param, size
        self.url = URL(path).with_query(request.query) if path else request.rel_url
        try:
            number = int(request.query.get(param, "1"))
        except ValueError:
            number = 1
        self.number = min(max(number, 1), MAX_PAGE)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def limit(self) -> int:
        return self.size + 1

    def page(self, rows: Sequence[T], total: int | None = None) -> Page[T]:
        shown = list(rows[: self.size])
        more = len(rows) > self.size if total is None else self.offset + len(shown) < total
        return Page(
            shown,
            self.number,
            self._link(self.number - 1) if self.number > 1 else None,
            self._link(self.number + 1) if more else None,
            total,
        )

    def _link(self, number: int) -> str:
        return str(self.url.update_query({self.param: str(number)}))
