"""The console without anyone signed in, in a real Chromium: every page sends an anonymous
visitor to the sign-in page (and shows no data), the sign-in page is in Chinese, a form posted
without its CSRF token is refused, the static files are served from the package (no CDN)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser.conftest import console_url, screenshot, start_suite

pytestmark = pytest.mark.e2e
PAGES = ("/", "/tickets", "/live/home", "/partner")


@pytest.fixture(scope="module")
def console(console_env: dict[str, str], tmp_path_factory: Any) -> Iterator[dict[str, str]]:
    suite = start_suite(console_env, tmp_path_factory.mktemp("logs"), services=("console",))
    try:
        yield console_env
    finally:
        suite.stop()


def test_anonymous_visitors_are_sent_to_sign_in_and_see_no_data(console, chromium) -> None:
    context = chromium.context()
    page = context.new_page()
    for path in PAGES:
        page.goto(console_url(console, path))
        expected = "/partner/login" if path.startswith("/partner") else "/login"
        assert page.url.split("?")[0] == console_url(console, expected), path
        assert page.locator("form input[name=csrf_token]").count() == 1
        assert page.locator("nav.main").count() == 0  # no navigation, no data
    page.goto(console_url(console, "/"))
    assert page.locator("h1").inner_text() == "工作人员登录"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    screenshot(page, "login")
    context.close()


def test_without_a_session_no_page_answers_with_content(console) -> None:
    for path in PAGES:
        r = requests.get(console_url(console, path), allow_redirects=False, timeout=10)
        assert r.status_code == 303 and r.text == "", path
        r = requests.get(console_url(console, path), headers={"HX-Request": "true"},
                         allow_redirects=False, timeout=10)
        assert r.status_code == 401 and "login" in r.headers["HX-Redirect"], path


def test_a_form_posted_without_its_csrf_token_is_refused(console, chromium) -> None:
    context = chromium.context()
    page = context.new_page()
    page.goto(console_url(console, "/login"))
    page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
    page.fill("input[name=name]", "somebody")
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert "表单已失效" in page.locator("h1").inner_text()
    r = requests.post(console_url(console, "/login"), data={"name": "a", "password": "b"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "表单已失效" in r.text
    context.close()


def test_static_files_come_from_the_package(console) -> None:
    r = requests.get(console_url(console, "/static/htmx.min.js"), timeout=10)
    assert r.status_code == 200 and "htmx" in r.text[:2000]
    again = requests.get(console_url(console, "/static/htmx.min.js"), timeout=10,
                         headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert requests.get(console_url(console, "/static/..%2Fservice.py"),
                        timeout=10).status_code == 404
