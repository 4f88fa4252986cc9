"""Usability across pages: each role's main pages (its navigation) at a phone width (390 px) and
on a desktop: no horizontal overflow, one clear <h1>, a <title>, and navigation for the role."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import DEMO_LOGINS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
# Public pages that are not in every navigation but must work without login.
PUBLIC_EXTRA = ["/", "/login", "/reports/annual/"]

OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


def _nav_paths(page) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.locator("header.site nav a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    paths = []
    for href in hrefs:
        path = urlsplit(href).path
        if path not in paths:
            paths.append(path)
    return paths


def _check_page(page, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Problems found on one page (empty when fine)."""
    problems = []
    response = page.goto(path)
    status = response.status if response else 0
    if status >= 400:
        return [f"{path}: HTTP {status}"]
    overflow = page.evaluate(OVERFLOW_JS)
    if overflow > 1:
        problems.append(f"{path}: {overflow}px horizontal overflow at {page.viewport_size['width']}px")
    if page.locator("h1").count() != 1:
        problems.append(f"{path}: {page.locator('h1').count()} <h1> elements")
    if not page.title().strip():
        problems.append(f"{path}: empty <title>")
    return problems


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone390", "desktop"])
@pytest.mark.parametrize("role", ["public", *DEMO_LOGINS])
def test_role_pages_fit_and_have_titles(new_page, login_as, role, viewport):
    page = new_page(locale="zh-TW", **viewport)
    if role != "public":
        login_as(page, DEMO_LOGINS[role])
    page.goto("/")
    paths = _nav_paths(page)
    assert paths, f"{role}: no navigation entries"
    if role == "public":
        paths += [p for p in PUBLIC_EXTRA if p not in paths]
    problems = [problem for path in paths for problem in _check_page(page, path)]
    assert not problems, f"{role} at {viewport['width']}px:\n" + "\n".join(problems)


@pytest.mark.parametrize("role", ["public", *DEMO_LOGINS])
def test_navigation_fits_the_role(new_page, login_as, role):
    """Signed-in users see their role's entries and the sign-out button; the public sees sign-in."""
    page = new_page(locale="en-US")
    if role != "public":
        login_as(page, DEMO_LOGINS[role])
    page.goto("/")
    if role == "public":
        assert page.locator("header .account a[href$='/login']").count() == 1
        assert page.locator("header nav a[href^='/dashboard']").count() == 0
    else:
        assert page.locator("header .account form button").count() == 1
    if role in {"agency", "admin"}:
        assert page.locator("header nav a[href^='/dashboard']").count() == 1
    elif role != "public":
        assert page.locator("header nav a[href^='/dashboard']").count() == 0
