"""Which pages exist, their stable URL paths, and which roles get them.

A page left out of a role's list is not registered with ``st.navigation`` for that
user, so it cannot be reached by URL or ``st.switch_page``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.domain import N_
from dashboard.privacy import Viewer

ROOT = Path(__file__).resolve().parent.parent
ALL = frozenset({"admin", "committee", "minister", "partner"})


@dataclass(frozen=True)
class PageSpec:
    url_path: str
    file: str
    title: str  # msgid
    icon: str
    section: str  # msgid
    roles: frozenset
    needs_import_right: bool = False
    default_for: frozenset = frozenset()


SECTIONS = (N_("Overview"), N_("Referral chain"), N_("Shelters"), N_("Plans and projects"), N_("Administration"))

PAGES = (
    PageSpec("home", "app_pages/home.py", N_("Home"), ":material/home:", SECTIONS[0], ALL,
             default_for=frozenset({"admin", "committee", "partner"})),
    PageSpec("summary", "app_pages/summary.py", N_("Summary"), ":material/summarize:", SECTIONS[0], ALL,
             default_for=frozenset({"minister"})),
    PageSpec("case-flow", "app_pages/case_flow.py", N_("Case flow"), ":material/account_tree:", SECTIONS[1], ALL),
    PageSpec("bottlenecks", "app_pages/bottlenecks.py", N_("Bottlenecks"), ":material/hourglass_top:", SECTIONS[1], ALL),
    PageSpec("case-review", "app_pages/case_review.py", N_("Case review"), ":material/fact_check:", SECTIONS[1],
             frozenset({"admin", "committee"})),
    PageSpec("shelters", "app_pages/shelters.py", N_("Shelters"), ":material/night_shelter:", SECTIONS[2], ALL),
    PageSpec("action-plan", "app_pages/action_plan.py", N_("Action plan"), ":material/checklist:", SECTIONS[3], ALL),
    PageSpec("project-indicators", "app_pages/project_indicators.py", N_("Project indicators"), ":material/monitoring:",
             SECTIONS[3], frozenset({"admin", "committee", "partner"})),
    PageSpec("data-import", "app_pages/data_import.py", N_("Data import"), ":material/upload_file:", SECTIONS[4],
             frozenset({"admin", "committee"}), needs_import_right=True),
    PageSpec("admin", "app_pages/admin.py", N_("Users and audit log"), ":material/admin_panel_settings:", SECTIONS[4],
             frozenset({"admin"})),
)


def pages_for(viewer: Viewer) -> list[PageSpec]:
    """The pages this viewer may open, in menu order (only those whose file exists)."""
    out = []
    for page in PAGES:
        if viewer.role not in page.roles:
            continue
        if page.needs_import_right and not (viewer.can_import or viewer.role == "admin"):  # admins always import
            continue
        if not (ROOT / page.file).exists():
            continue  # a page not built yet in this checkout
        out.append(page)
    return out


def default_page(viewer: Viewer) -> PageSpec:
    pages = pages_for(viewer)
    for page in pages:
        if viewer.role in page.default_for:
            return page
    return pages[0]
