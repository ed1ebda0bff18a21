"""What a person sees when something goes wrong: the problem+json title, detail and code in a
banner (never a blank page), and the start page leading to the four pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from core.auth.models import Role
from core.db import session_scope
from tests.factories import DEFAULT_PASSWORD, create_location, create_user
from tests.web.browser import open_page, sign_in


@pytest.fixture
def accounts(live_server: str) -> dict[str, str]:
    with session_scope() as s:
        create_location(s, lat=52.52, lon=13.405)
        return {"customer": _email(s, Role.customer), "staff_without_store": _email(s, Role.dispatcher)}


def _email(session: Session, role: Role) -> str:
    return str(create_user(session, role=role).email)


def test_start_page_links_to_the_four_pages(browser: Browser, live_server: str) -> None:
    person = open_page(browser, f"{live_server}/", phone=False)
    for page in ("customer", "courier", "staff", "ops"):
        expect(person.page.locator(f"a[href='/app/{page}/']")).to_be_visible()
    person.page.click("a[href='/app/courier/']")
    expect(person.page.locator("#login h2")).to_have_text("Courier sign-in")
    assert person.errors == []


def test_customer_sees_why_a_point_cannot_be_served(browser: Browser, live_server: str, accounts) -> None:
    person = open_page(browser, f"{live_server}/app/customer/", phone=True)
    sign_in(person, accounts["customer"], DEFAULT_PASSWORD)
    person.page.fill("#lat", "48.85")
    person.page.fill("#lon", "2.35")
    person.page.click("#use-point")
    banner = person.page.locator("#error")
    expect(banner).to_be_visible()
    expect(banner.locator("code")).to_have_text("outside_service_area")
    expect(person.page.locator("#map canvas")).to_be_visible()
    # The browser logs the 422 as a failed resource load; no script error may accompany it.
    assert [e for e in person.errors if "status of 422" not in e] == []


def test_wrong_account_and_wrong_password_are_explained(browser: Browser, live_server: str, accounts) -> None:
    person = open_page(browser, f"{live_server}/app/courier/", phone=True)
    person.page.fill("#login input[name=email]", accounts["customer"])
    person.page.fill("#login input[name=password]", DEFAULT_PASSWORD)
    person.page.click("#login button[type=submit]")
    expect(person.page.locator("#error code")).to_have_text("wrong_role")
    person.page.fill("#login input[name=password]", "not the password")
    person.page.click("#login button[type=submit]")
    expect(person.page.locator("#error code")).not_to_have_text("wrong_role")
    expect(person.page.locator("#error strong")).not_to_be_empty()
    assert [e for e in person.errors if "status of 401" not in e] == []
