"""Numbers as officials read them: money in 万元 (亿元 from 10,000 万元 up), counts with separators, percents."""

from __future__ import annotations

import math
from datetime import date, datetime

WAN_PER_YI = 10_000


def _missing(value: float | int | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def fmt_money(wan: float | int | None, lang: str = "zh") -> str:
    """An amount given in 万元: "3,456.7 万元" / "1.23 亿元"; in English "CNY 34.6 m" / "CNY 500 k".
    None → "—" (not reported is not zero)."""
    if _missing(wan):
        return "—"
    if lang == "en":
        yuan = wan * 10_000
        return f"CNY {yuan / 1e6:,.1f} m" if abs(yuan) >= 1e6 else f"CNY {yuan / 1e3:,.0f} k"
    if abs(wan) >= WAN_PER_YI:
        return f"{wan / WAN_PER_YI:,.2f} 亿元"
    return f"{wan:,.1f} 万元"


def fmt_count(n: int | float | None) -> str:
    return "—" if _missing(n) else f"{int(n):,}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """A ratio already in percent (3.0 means 3%)."""
    return "—" if _missing(value) else f"{value:.{digits}f}%"


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
