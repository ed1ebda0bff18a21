"""Headless Chromium (Debian's, see PLATFORM-NOTES) for the page tests: one browser per module,
one context per person, and every console error or uncaught exception collected so a test can
fail on it."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, ViewportSize, expect

from core.settings import get_settings

CHROMIUM = "/usr/bin/chromium"
DOC_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
TIMEOUT_MS = 30_000
# Assertions wait as long as actions do: with their own 5 s default, a page redrawn after a
# request on a loaded CI machine (two xdist workers, a browser and a live server on two cores)
# once failed an assertion its action would have waited for.
expect.set_options(timeout=TIMEOUT_MS)


@dataclass
class Person:
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)

    def screenshot(self, name: str) -> Path:
        """Capture the page and check the file is a PNG of the whole viewport."""
        folder = screenshot_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        self.page.evaluate("window.scrollTo(0, 0)")
        self.page.screenshot(path=str(path))
        size = self.page.viewport_size
        assert size is not None
        assert png_size(path) == (size["width"], size["height"]), path
        return path


def screenshot_dir() -> Path:
    """O2O_UPDATE_SCREENSHOTS=1 refreshes the README's pictures in docs/screenshots/ (run it when
    a page's look changed on purpose, then commit them). Any other run writes under the private
    stack's home (O2O_HOME, git-ignored), so `make test` never leaves the working tree modified."""
    if os.environ.get("O2O_UPDATE_SCREENSHOTS") == "1":
        return DOC_SCREENSHOTS
    return get_settings().home / "screenshots"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from the PNG header; fails for anything that is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert head[12:16] == b"IHDR", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return int(width), int(height)


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


# Share of the map canvas not painted in the background colour: a map with its streets is mostly
# streets and blocks, a blank one (only markers) is nearly all background.
_PAINTED_SHARE_JS = """(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas || !canvas.width) return 0;
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let painted = 0;
  for (let i = 0; i < data.length; i += 4) {
    const off = Math.abs(data[i] - 0xe6) + Math.abs(data[i + 1] - 0xe9) + Math.abs(data[i + 2] - 0xe1);
    if (off > 12) painted += 1;
  }
  return painted / (data.length / 4);
}"""
STREETS_DRAWN = 0.05  # a blank map with a marker paints ~0.3 %, the share page ~15 %


def wait_for_streets(person: Person, selector: str = "#map canvas") -> float:
    """Wait until the map canvas shows streets; return the painted share of its pixels."""
    person.page.wait_for_function(f"({_PAINTED_SHARE_JS})({selector!r}) > {STREETS_DRAWN}")
    painted: float = person.page.evaluate(_PAINTED_SHARE_JS, selector)
    return painted
