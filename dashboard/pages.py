"""The one page registry: which pages exist, in which order, with which icon, and which roles see them.

app.py builds the navigation from `pages_for(role)`; a new page is added here and nowhere else.
Page scripts live in dashboard/views/, not pages/: a folder named pages/ beside app.py switches Streamlit into its
legacy multipage mode, which reruns a page file without app.py (the language switch and sidebar then vanish).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from registry.access import role_can

DASHBOARD_DIR = Path(__file__).resolve().parent
ROLES = frozenset({"admin", "official", "analyst", "manager"})


@dataclass(frozen=True)
class PageSpec:
    key: str  # URL path and i18n key "page.<key>"
    script: str  # relative to dashboard/
    icon: str
    roles: frozenset[str] = ROLES
    default: bool = False
    action: str = "read"  # registry.access action a role needs to see the page

    @property
    def path(self) -> Path:
        return DASHBOARD_DIR / self.script


PAGES: tuple[PageSpec, ...] = (
    PageSpec("overview", "views/overview.py", ":material/dashboard:", default=True),
    PageSpec("registry", "views/registry_list.py", ":material/table_view:"),
    PageSpec("firm", "views/firm.py", ":material/factory:"),
    PageSpec("monitoring", "views/monitoring.py", ":material/monitoring:"),
    PageSpec("pipeline", "views/pipeline.py", ":material/stacked_bar_chart:"),
    PageSpec("targets", "views/targets.py", ":material/flag:"),
    PageSpec("review", "views/review.py", ":material/fact_check:"),
    PageSpec("intake", "views/intake.py", ":material/upload_file:"),
    PageSpec("policies", "views/policies.py", ":material/gavel:"),
    PageSpec("impact", "views/impact.py", ":material/compare_arrows:"),
    PageSpec("briefing", "views/briefing.py", ":material/summarize:"),
    PageSpec("audit", "views/audit.py", ":material/history:", action="audit.view"),
)


def pages_for(role: str) -> list[PageSpec]:
    """The pages a role may open: listed for the role and allowed its action (registry.access.can). A page left
    out is not in the navigation at all, so its URL opens the default page instead."""
    return [p for p in PAGES if role in p.roles and role_can(role, p.action)]


def page_spec(key: str) -> PageSpec:
    return next(p for p in PAGES if p.key == key)
