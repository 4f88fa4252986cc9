"""The harness itself: the live server answers, pages render, sign-in and the language switch work."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_home_has_title_and_heading(page):
    page.goto("/")
    assert page.title().strip()
    assert page.locator("h1").count() == 1


def test_login_form_shows_field_errors_and_keeps_email(page):
    page.goto("/login")
    page.locator("input[name=email]").fill("nobody@demo.gx")
    page.locator("input[name=password]").fill("wrong")
    page.locator("main form button[type=submit]").click()
    assert page.locator(".error-summary").is_visible()
    assert page.locator("input[name=email]").input_value() == "nobody@demo.gx"
    assert page.locator("input[name=password][aria-invalid=true]").count() == 1


def test_language_switch_zh_en_and_back(page):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-Hant-TW"
    page.locator("a[data-lang=en]").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert page.url.endswith("/login") or "/login?" in page.url
    page.locator("a[data-lang=zh_Hant_TW]").click()
    assert page.locator("html").get_attribute("lang") == "zh-Hant-TW"


@pytest.mark.parametrize("page", ["en-US"], indirect=True)
def test_login_as_demo_admin(page, login_as):
    login_as(page, "admin@demo.gx")
    assert re.search(r"Scheme Admin", page.locator("header .who").inner_text())
