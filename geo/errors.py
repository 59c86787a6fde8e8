"""Exceptions raised by the geo package."""

from collections.abc import Sequence


class GeoError(Exception):
    """Base class for every error the geo package raises on purpose."""


class CoordinateError(GeoError, ValueError):
    """A coordinate is NaN, out of range or in an unknown coordinate system."""


class ProblemListError(GeoError):
    """An input with one or more problems, all collected before failing.

    The message is a summary line followed by one line per problem; ``problems`` holds those lines.
    """

    def __init__(self, summary: str, problems: Sequence[str], *, max_lines: int = 50) -> None:
        self.problems = list(problems)
        lines = [summary, *self.problems[:max_lines]]
        if len(self.problems) > max_lines:
            lines.append(f"... and {len(self.problems) - max_lines} more")
        super().__init__("\n".join(lines))


class GridLayerError(ProblemListError):
    """A grid boundary file that cannot be imported."""


class CsvInputError(ProblemListError, ValueError):
    """A CSV of points that cannot be located."""
