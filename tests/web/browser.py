"""Headless Chromium (Debian's, see PLATFORM-NOTES) for the page tests: one browser per module,
one context per person, and every console error or uncaught exception collected so a test can
fail on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
TIMEOUT_MS = 30_000


@dataclass
class Person:
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path))
        return path


def open_page(browser: Browser, url: str, *, phone: bool) -> Person:
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP, device_scale_factor=1, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    person = Person(context, page)

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            person.errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: person.errors.append(f"pageerror: {error}"))
    page.goto(url)
    return person


def sign_in(person: Person, email: str, password: str) -> None:
    page = person.page
    page.fill("#login input[name=email]", email)
    page.fill("#login input[name=password]", password)
    page.click("#login button[type=submit]")
    page.wait_for_selector("#logout")
