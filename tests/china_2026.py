"""The 2026 schedule of shared/reference/china-2026-holidays.md, written out once for the
tests independently of the code under test."""

from datetime import date, timedelta

_DAYS_OFF = [
    (date(2026, 1, 1), date(2026, 1, 3)),
    (date(2026, 2, 15), date(2026, 2, 23)),
    (date(2026, 4, 4), date(2026, 4, 6)),
    (date(2026, 5, 1), date(2026, 5, 5)),
    (date(2026, 6, 19), date(2026, 6, 21)),
    (date(2026, 9, 25), date(2026, 9, 27)),
    (date(2026, 10, 1), date(2026, 10, 7)),
]

DAYS_OFF_2026 = {
    first + timedelta(days=n) for first, last in _DAYS_OFF for n in range((last - first).days + 1)
}
MAKEUP_WORKDAYS_2026 = {
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
}
