"""The page on a server that wants an API key: it asks for one, says when it is wrong, and sends it with
uploads and with the live stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from awaaz.text.script import is_devanagari_text
from tests.conftest import Clip
from tests.web.conftest import API_KEY, open_page, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser


def test_the_page_asks_for_a_key_and_sends_it_with_uploads_and_the_live_stream(
    browser: Browser, locked_site: str, hindi_clips: list[Clip]
) -> None:
    page = open_page(browser, locked_site)
    page.locator("#auth").wait_for()
    assert page.evaluate("document.activeElement.id") == "api-key"
    screenshot(page, "key-asked")

    page.fill("#api-key", "awz_wrong")
    page.keyboard.press("Enter")
    page.locator("#error", has_text="not accepted").wait_for()
    assert page.locator("#auth").is_visible()

    page.fill("#api-key", API_KEY)
    page.keyboard.press("Enter")
    page.locator("#auth").wait_for(state="hidden")
    page.set_input_files("#file", str(hindi_clips[0].path))
    page.wait_for_selector("#segments li")
    assert is_devanagari_text(page.inner_text("#segments"))

    page.click("#record")
    page.wait_for_selector("#segments li:nth-child(2)", timeout=90_000)
    page.click("#record")
    page.wait_for_selector("#record[aria-pressed=false]")
    assert page.locator("#error").is_hidden()

    page.reload()  # the key is remembered by this browser
    page.wait_for_selector("body[data-ready=true]")
    assert page.locator("#auth").is_hidden()
