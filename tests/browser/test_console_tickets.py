"""工作台, 联合处置 and the partner view in Debian's headless Chromium, against the whole suite as
processes (real RabbitMQ and PostgreSQL). People are signed in with the session cookie the
console sets at sign-in (holding their own API token), so this module does not depend on the
password sign-in (tests/browser/test_headline_console.py drives that):

- the home page shows my tasks and the tickets I lead; a new ticket appears without a reload;
- on the ticket page every action goes through liaison's API as the person: an editor may
  comment but not acknowledge (liaison's 403, in Chinese); a section head acknowledges, moves
  the ticket, assigns and completes a task, pins an entry, shares with an agency;
- the partner sees the ticket without RED entries and internal comments, acknowledges and
  comments; the lead's page shows the comment without a reload;
- a comment carrying a script renders as text; a POST without the CSRF token is refused."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from civicpulse_demo import negative_burst
from tests.browser.conftest import console_url, screenshot, start_suite
from tests.conftest import make_uow
from tests.e2e.liaison_clock import miss_acknowledge_deadline
from tests.helpers import wait_for

pytestmark = pytest.mark.e2e
LEAD_SECTION = "新闻宣传处"
LIVE_MS = 15_000
XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1">'


class World:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.run = uuid.uuid4().hex[:6]
        self.tokens: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.ticket = ""
        self.incident = ""
        self.partner_token = ""
        self.agency = ""

    def api(self, service: str, path: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_HTTP_PORT']}{path}"

    def call(self, method: str, service: str, path: str, who: str = "lead",
             body: Any = None) -> Any:
        r = requests.request(method, self.api(service, path), json=body, timeout=30,
                             headers={"Authorization": f"Bearer {self.tokens[who]}"})
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text[:300]}"
        return r.json()

    def staff_page(self, chromium: Any, who: str, role: str) -> Any:
        from civicpulse import production
        from services.console.session import COOKIE, SessionCodec, signed_in

        session = signed_in("staff", self.names[who], self.tokens[who], role, LEAD_SECTION)
        codec = SessionCodec(production.secret("CONSOLE_SECRET_KEY"), 600, 3600)
        context = chromium.context()
        context.add_cookies([{"name": COOKIE, "value": codec.dumps(session),
                              "url": console_url(self.env, "/")}])
        return context.new_page()


def add_staff(w: World, who: str, role: str) -> None:
    """An account made with the service's own code (the identity service, once it is on
    main, or review's accounts before it)."""
    name = w.names[who] = f"{who}-{w.run}"
    try:
        from services.identity import accounts  # type: ignore[import-not-found]

        uow = make_uow("identity", w.env["IDENTITY_DATABASE_URL"])
        w.tokens[who] = accounts.add(uow(), name, role, section=LEAD_SECTION)
    except ImportError:
        from services.review import handlers as review_handlers

        uow = make_uow("review", w.env["REVIEW_DATABASE_URL"])
        w.tokens[who] = review_handlers.add_staff(uow(), name, role, section=LEAD_SECTION)


@pytest.fixture(scope="module")
def world(console_env: dict[str, str], tmp_path_factory: Any) -> Iterator[World]:
    suite = start_suite(console_env, tmp_path_factory.mktemp("logs"))
    w = World(console_env)
    try:
        add_staff(w, "lead", "section_head")
        add_staff(w, "editor", "editor")
        yield w
    finally:
        suite.stop()


def test_a_new_ticket_appears_on_the_leads_home_page_without_a_reload(world: World,
                                                                      chromium: Any) -> None:
    w = world
    home = w.staff_page(chromium, "lead", "section_head")
    home.goto(console_url(w.env, "/"))
    assert home.locator("h1").inner_text().startswith("工作台")
    home.evaluate("window.__stayed = true")
    from services.sentiment import collectors

    collector = collectors.add(make_uow("sentiment", w.env["SENTIMENT_DATABASE_URL"])(),
                               f"console-{w.run}")
    r = requests.post(w.api("sentiment", "/mentions"), json=negative_burst(w.run), timeout=60,
                      headers={"Authorization": f"Bearer {collector}"})
    assert r.status_code == 202 and r.json()["incidents"], r.text
    w.incident = r.json()["incidents"][0]["incident_id"]
    row = home.locator("#my-tickets tr[data-ticket]").first
    row.wait_for(timeout=60_000)
    w.ticket = row.get_attribute("data-ticket")
    assert home.evaluate("window.__stayed") is True, "the page reloaded"
    # its acknowledge deadline is missed: overdue in red here, a RED escalation inside
    miss_acknowledge_deadline(w.env["LIAISON_DATABASE_URL"], w.ticket)
    try:
        home.locator(f"#my-tickets tr.overdue[data-ticket='{w.ticket}']").wait_for(
            timeout=LIVE_MS)
    except Exception:
        print(home.locator("#live-home").inner_html())
        print(w.call("GET", "liaison", "/tickets"))
        raise
    assert "已逾期" in home.locator(f"#my-tickets tr[data-ticket='{w.ticket}']").inner_text()
    wait_for(lambda: "deadline.escalated" in {
        e["kind"] for e in w.call("GET", "liaison", f"/tickets/{w.ticket}")["timeline"]},
        timeout=30)
    # the plan's tasks for the lead section are mine (their section is mine)
    home.locator("#my-tasks li").first.wait_for(timeout=LIVE_MS)
    assert home.locator("#my-tasks").inner_text().count("研判") >= 1
    assert home.locator("#incidents .level-col").count() == 4
    assert home.locator("#unread").count() in (0, 1)  # the inbox count, when there is one
    screenshot(home, "home")


def test_an_editor_may_comment_but_not_acknowledge(world: World, chromium: Any) -> None:
    w = world
    page = w.staff_page(chromium, "editor", "editor")
    page.goto(console_url(w.env, f"/tickets/{w.ticket}"))
    page.fill("#comment-form textarea[name=text]", f"编辑意见 {XSS}")
    page.click("#comment-form button[type=submit]")
    page.wait_for_selector("#flash:has-text('意见已发表')")
    entry = page.locator("#timeline li", has_text="编辑意见").first
    assert "<script>" in entry.inner_text()  # shown as text
    assert page.evaluate("window.__xss") is None
    page.click("#acknowledge")
    page.wait_for_selector("#flash .error, h1:has-text('权限')")
    assert "没有执行此操作的权限" in page.locator("main").inner_text()
    assert w.call("GET", "liaison", f"/tickets/{w.ticket}")["facts"]["acknowledged_at"] is None


def test_the_lead_works_the_ticket_through_liaisons_rules(world: World, chromium: Any) -> None:
    w = world
    page = w.staff_page(chromium, "lead", "section_head")
    page.goto(console_url(w.env, f"/tickets/{w.ticket}"))
    page.keyboard.press("a")  # the shortcut for 确认接收
    page.wait_for_selector("#flash:has-text('已确认接收')")
    page.wait_for_selector("#deadline-acknowledge .due.met")
    assert page.locator("#acknowledge").count() == 0
    page.fill("#task-form input[name=title]", "联系属地街道核实")
    page.fill("#task-form input[name=owner]", w.names["lead"])
    page.fill("#task-form input[name=due_at]", "2030-01-01T18:00")
    page.click("#task-form button[type=submit]")
    task = page.locator("#tasks li", has_text="联系属地街道核实")
    task.wait_for()
    task.locator("button", has_text="完成").click()
    page.locator("#tasks li", has_text="联系属地街道核实").locator(
        "text=已完成").first.wait_for()
    entry = page.locator("#timeline li", has_text="编辑意见").first
    entry.locator("button", has_text="置顶").click()
    page.locator("#pinned li", has_text="编辑意见").wait_for()
    status = w.call("GET", "liaison", f"/tickets/{w.ticket}")
    target = status["next_statuses"][0]  # what the plan allows next, as the page offers it
    assert page.locator("#live-ticket .actions button:has-text('转为')").count() == \
        len(status["next_statuses"])
    labels = {"acknowledged": "已接收", "responding": "处置中", "monitoring": "观察中",
              "resolved": "已解决", "closed": "已关闭"}
    page.click(f"button:has-text('转为「{labels[target]}」')")
    page.wait_for_selector(f"#ticket-status:has-text('{labels[target]}')")
    assert w.call("GET", "liaison", f"/tickets/{w.ticket}")["status"] == target
    tasks = w.call("GET", "liaison", f"/tasks?assignee={w.names['lead']}")["tasks"]
    assert any(t["title"] == "联系属地街道核实" and t["status"] == "done" for t in tasks)
    screenshot(page, "ticket-lead")
    board = page.context.new_page()
    board.goto(console_url(w.env, "/tickets"))
    assert board.locator(f"#col-{target} [data-ticket='{w.ticket}']").count() == 1
    screenshot(board, "tickets-board")
    board.click(f"#col-{target} h2 a")  # the column's whole list, page by page
    board.wait_for_selector(f"#tickets tr[data-ticket='{w.ticket}']")
    total = w.call("GET", "liaison", f"/tickets?status={target}&limit=1")["total"]
    assert f"共 {total} 件" in board.locator("main h1").inner_text()


def test_the_partner_sees_no_red_and_its_comment_reaches_the_lead_live(world: World,
                                                                     chromium: Any) -> None:
    from services.liaison.cli import partners

    w = world
    ticket = w.call("GET", "liaison", f"/tickets/{w.ticket}")
    agency = ticket["agencies"][0]
    added = CliRunner().invoke(partners, ["add", agency])
    assert added.exit_code == 0, added.output
    token = dict(line.split(": ", 1) for line in added.stdout.splitlines()
                 if ": " in line)["token"]
    lead = w.staff_page(chromium, "lead", "section_head")
    lead.goto(console_url(w.env, f"/tickets/{w.ticket}"))
    assert lead.locator(f"#agencies [data-agency='{agency}'] .tlp").count() >= 1
    name = w.call("GET", "liaison", f"/agencies/{agency}")["name"]
    assert name in lead.locator(f"#agencies [data-agency='{agency}'] h3").inner_text()
    lead.evaluate("window.__stayed = true")

    partner = chromium.context().new_page()
    partner.goto(console_url(w.env, "/partner/login"))
    partner.fill("input[name=token]", token)
    partner.click("button[type=submit]")
    partner.click(f"a[href='/partner/tickets/{w.ticket}']")
    partner.wait_for_selector("#events")
    text = partner.locator("main").inner_text()
    assert "TLP:RED" not in text and "编辑意见" not in text, text
    withheld = [e["text"] for e in ticket["timeline"]
                if e["kind"] in ("withheld", "deadline.escalated")]
    assert withheld and not any(t in text for t in withheld)
    assert partner.locator("nav.main a").all_inner_texts() == ["共享事件"]
    partner.click("#partner-ack button[type=submit]")
    partner.wait_for_selector("#flash:has-text('已确认收到')")
    comment = f"已协调属地核查 {w.run}"
    partner.fill("#partner-comment textarea[name=text]", comment)
    partner.click("#partner-comment button[type=submit]")
    partner.wait_for_selector(f"#notes li:has-text('{comment}')")
    screenshot(partner, "partner-ticket")
    # staff pages are not the partner's
    partner.goto(console_url(w.env, "/tickets"))
    assert partner.url.split("?")[0].endswith("/login")

    lead.locator(f"#agencies .note:has-text('{comment}')").wait_for(timeout=LIVE_MS)
    assert lead.evaluate("window.__stayed") is True, "the page reloaded"
    wait_for(lambda: any(e["kind"] == "partner.comment" for e in w.call(
        "GET", "liaison", f"/tickets/{w.ticket}")["timeline"]), timeout=5)


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(world: World,
                                                                    chromium: Any) -> None:
    w = world
    page = w.staff_page(chromium, "lead", "section_head")
    page.goto(console_url(w.env, f"/tickets/{w.ticket}"))
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    before = len(w.call("GET", "liaison", f"/tickets/{w.ticket}")["timeline"])
    r = requests.post(console_url(w.env, f"/tickets/{w.ticket}/comments"), cookies=cookies,
                      data={"text": "伪造的意见"}, allow_redirects=False, timeout=10)
    assert r.status_code == 403 and "表单已失效" in r.text
    r = requests.post(console_url(w.env, f"/tickets/{w.ticket}/comments"), cookies=cookies,
                      data={"text": "伪造的意见", "csrf_token": "guessed"},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403
    assert len(w.call("GET", "liaison", f"/tickets/{w.ticket}")["timeline"]) == before
