"""Lists shown a page at a time: which page the address asks for, and where it stands among
the others (for the 上一页 / 下一页 links of `templates/pager.html`). Pure: no nameko."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def number(args: Mapping[str, str]) -> int:
    """The page the query string asks for (`page`, from 1); 1 when absent or not a number."""
    try:
        return max(1, int(args.get("page") or 1))
    except ValueError:
        return 1


def offset(page: int, size: int) -> int:
    return (page - 1) * size


def pager(total: int, page: int, size: int) -> dict[str, Any]:
    """Where a page stands: its number, the last page, the neighbours (or None), the total."""
    last = max(1, -(-total // size))
    return {"page": page, "last": last, "total": total,
            "prev": page - 1 if page > 1 else None, "next": page + 1 if page < last else None}
