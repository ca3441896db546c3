"""The web page in headless Chromium: upload, job progress, live recording, errors, keyboard, accessibility.

Screenshots go to test-artifacts/web/."""

from __future__ import annotations

import json
import re
import wave
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from awaaz.audio import decode_audio
from awaaz.text.script import is_devanagari_text
from awaaz.types import SAMPLE_RATE
from tests.conftest import Clip
from tests.web.conftest import MAX_JOB_UPLOAD_MB, open_page, screenshot

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
SRT_TIME = re.compile(r"^(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})$")

# Records, in the page, what the user sees change: live (partial) text, new segments, progress texts.
OBSERVE = """() => {
  window.seen = [];
  const note = (kind, text) => window.seen.push({kind, text, at: performance.now()});
  new MutationObserver(() => {
    const live = document.getElementById('live').textContent;
    if (live) note('partial', live);
  }).observe(document.getElementById('live'), {childList: true, characterData: true, subtree: true});
  new MutationObserver((changes) => {
    for (const change of changes) for (const node of change.addedNodes) note('final', node.textContent);
  }).observe(document.getElementById('segments'), {childList: true});
  new MutationObserver(() => note('progress', document.getElementById('progress-text').textContent))
    .observe(document.getElementById('progress-text'), {childList: true, characterData: true, subtree: true});
}"""


def _wav(clips: list[Clip], path: Path, pause_s: float = 0.8) -> Path:
    pause = np.zeros(int(pause_s * SAMPLE_RATE), dtype=np.float32)
    audio = np.concatenate([part for c in clips for part in (decode_audio(c.path.read_bytes()), pause)])
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _segments(page: Page) -> list[str]:
    return [t.strip() for t in page.locator("#segments .text").all_inner_texts()]


def _download(page: Page, fmt: str) -> str:
    with page.expect_download() as info:
        page.click(f".downloads button[data-format={fmt}]")
    path = info.value.path()
    assert info.value.suggested_filename.endswith(f".{fmt}")
    return Path(path).read_text(encoding="utf-8")


def _parse_srt(body: str) -> list[tuple[float, float, str]]:
    cues = []
    for number, block in enumerate(body.strip().split("\n\n"), start=1):
        lines = block.split("\n")
        assert lines[0] == str(number), block
        match = SRT_TIME.match(lines[1])
        assert match, lines[1]
        h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
        start, end = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        assert 0 <= start < end, block
        assert 1 <= len(lines[2:]) <= 2, block
        assert all(len(line) <= 42 or " " not in line for line in lines[2:]), block
        cues.append((start, end, " ".join(lines[2:])))
    return cues


def test_an_uploaded_clip_shows_devanagari_segments_plays_from_one_and_downloads_as_srt(
    browser: Browser, site: str, hindi_clips: list[Clip]
) -> None:
    page = open_page(browser, site)  # the page's own Content-Security-Policy in force
    page.set_input_files("#file", str(hindi_clips[0].path))
    page.wait_for_selector("#segments li")
    texts = _segments(page)
    assert texts
    assert is_devanagari_text(" ".join(texts)), texts
    assert page.locator("#progress-box").is_hidden()
    assert "Transcribed 0:02 of audio: 1 segment." in page.inner_text("#status")
    screenshot(page, "upload")

    cues = _parse_srt(_download(page, "srt"))
    assert [c[2] for c in cues] == texts
    assert page.locator("#player").is_visible()
    page.click("#segments li:first-child .time")
    page.wait_for_selector("#segments li.current[aria-current=true]")
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_a_corrected_word_goes_into_every_download(
    browser: Browser, site: str, hindi_clips: list[Clip]
) -> None:
    page = open_page(browser, site)
    page.set_input_files("#file", str(hindi_clips[1].path))
    page.wait_for_selector("#segments li")
    text = page.locator("#segments .text").first
    text.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("मेरा फ़ोन ठीक है।")
    page.keyboard.press("Enter")  # ends the edit, adds no line
    assert "मेरा फ़ोन ठीक है।" in _download(page, "txt")
    assert "मेरा फ़ोन ठीक है।" in _download(page, "vtt")
    saved = json.loads(_download(page, "json"))
    assert saved["segments"][0]["text"] == "मेरा फ़ोन ठीक है।"
    assert saved["segments"][0]["edited"] is True
    assert saved["language"] == "hi"


def test_a_file_through_the_job_path_shows_progress_up_to_100_percent(
    browser: Browser, site: str, hindi_clips: list[Clip], tmp_path: Path
) -> None:
    page = open_page(browser, site, bypass_csp=True)
    page.evaluate(OBSERVE)
    page.check("#as-job")
    page.set_input_files("#file", str(_wav(hindi_clips, tmp_path / "six-clips.wav")))
    page.wait_for_selector("#segments li")
    progress = [s["text"] for s in page.evaluate("window.seen") if s["kind"] == "progress"]
    percents = [int(m.group(1)) for p in progress if (m := re.match(r"(\d+) %", p))]
    assert percents[-1] == 100, progress
    assert any("of 0:" in p for p in progress), progress  # "42 % · 0:08 of 0:22": audio time
    texts = _segments(page)
    assert len(texts) >= 3, texts
    assert is_devanagari_text(" ".join(texts))
    row = page.locator("#jobs tbody tr").first
    row.get_by_text("Done").wait_for()
    assert row.locator("progress").get_attribute("value") == "100"
    assert "six-clips.wav" in row.inner_text()
    screenshot(page, "job")


def test_recording_shows_partial_text_before_the_final_devanagari_text(browser: Browser, site: str) -> None:
    page = open_page(browser, site, bypass_csp=True)
    page.evaluate(OBSERVE)
    page.click("#record")
    assert page.get_attribute("#record", "aria-pressed") == "true"
    page.wait_for_selector("#segments li:nth-child(2)", timeout=90_000)
    screenshot(page, "recording")
    page.click("#record")
    page.wait_for_selector("#record[aria-pressed=false]")
    seen = page.evaluate("window.seen")
    kinds = [s["kind"] for s in seen]
    assert "partial" in kinds, seen
    assert kinds.index("partial") < kinds.index("final"), seen
    finals = _segments(page)
    assert finals[0], finals
    assert is_devanagari_text(" ".join(finals)), finals
    assert page.locator("#player").is_visible()  # the recording can be played back
    assert not page.locator("#segments .time").first.is_disabled()
    assert page.js_errors == []  # type: ignore[attr-defined]


def test_a_refused_microphone_is_explained(browser: Browser, site: str) -> None:
    page = open_page(browser, site)
    page.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => "
        "Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));"
    )
    page.reload()
    page.wait_for_selector("body[data-ready=true]")
    page.click("#record")
    error = page.locator("#error")
    error.wait_for()
    assert "refused" in error.inner_text()
    assert "allow the microphone" in error.inner_text()
    assert page.get_attribute("#record", "aria-pressed") == "false"
    assert page.inner_text("#record-label") == "Record"


def test_an_oversize_and_a_non_audio_file_show_their_errors(
    browser: Browser, site: str, tmp_path: Path
) -> None:
    page = open_page(browser, site)
    big = tmp_path / "big.wav"
    big.write_bytes(b"\0" * int((MAX_JOB_UPLOAD_MB + 1) * 1024 * 1024))
    page.set_input_files("#file", str(big))
    page.locator("#error").wait_for()
    message = page.inner_text("#error")
    assert "too large" in message
    assert f"{MAX_JOB_UPLOAD_MB:.1f} MB" in message

    notes = tmp_path / "notes.txt"
    notes.write_text("यह ऑडियो नहीं है, सिर्फ़ पाठ है।\n" * 50, encoding="utf-8")
    page.set_input_files("#file", str(notes))
    page.locator("#error", has_text="not audio").wait_for()
    assert page.locator("#segments li").count() == 0
    screenshot(page, "error-not-audio")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status": 429, "headers": {"Retry-After": "7"}}, "The server is busy. Try again in 7 s."),
        ({"status": 503, "headers": {"Retry-After": "5"}}, "The server is busy. Try again in 5 s."),
        (None, "The connection to the server was lost"),
    ],
)
def test_a_busy_server_or_a_lost_network_is_said_in_plain_words(
    browser: Browser, site: str, hindi_clips: list[Clip], answer: dict[str, Any] | None, expected: str
) -> None:
    page = open_page(browser, site)

    def intercept(route: Any) -> None:
        if answer is None:
            route.abort("internetdisconnected")
        else:
            error = {"error": {"message": "Busy.", "type": "rate_limit_error", "param": None, "code": "busy"}}
            route.fulfill(**answer, json=error)

    page.route("**/v1/audio/transcriptions", intercept)
    page.set_input_files("#file", str(hindi_clips[2].path))
    page.locator("#error").wait_for()
    assert expected in page.inner_text("#error")
    assert page.locator("#file").is_enabled()  # ready for another try


def _tab_to(page: Page, selector: str, limit: int = 40) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement.matches({json.dumps(selector)})"):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_keyboard_alone_picks_a_file_records_and_downloads(
    browser: Browser, site: str, hindi_clips: list[Clip]
) -> None:
    page = open_page(browser, site, bypass_csp=True)
    _tab_to(page, "#file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(hindi_clips[3].path))
    page.wait_for_selector("#segments li")
    _tab_to(page, ".downloads button[data-format=srt]")
    with page.expect_download() as info:
        page.keyboard.press("Enter")
    assert _parse_srt(Path(info.value.path()).read_text(encoding="utf-8"))

    page.keyboard.press("Shift+Tab")
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "record":
            break
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#record[aria-pressed=true]")
    page.wait_for_selector("#segments li", timeout=90_000)
    page.keyboard.press("Enter")  # focus stayed on the button: stop
    page.wait_for_selector("#record[aria-pressed=false]")


def _serious_violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_axe_finds_no_serious_violations_with_a_transcript_shown(
    browser: Browser, site: str, hindi_clips: list[Clip], theme: str
) -> None:
    page = open_page(browser, site, bypass_csp=True)
    page.select_option("#theme", theme)
    assert page.get_attribute("html", "data-theme") == theme
    page.set_input_files("#file", str(hindi_clips[4].path))
    page.wait_for_selector("#segments li")
    page.click("#segments li:first-child .time")  # a highlighted segment too
    page.wait_for_selector("#segments li.current")
    assert _serious_violations(page) == []
    screenshot(page, f"theme-{theme}")


def test_the_page_fits_a_phone_screen(browser: Browser, site: str, hindi_clips: list[Clip]) -> None:
    page = open_page(
        browser, site, bypass_csp=True, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page.set_input_files("#file", str(hindi_clips[5].path))
    page.wait_for_selector("#segments li")
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], width  # nothing scrolls sideways
    for control in ("#file", "#record", ".downloads button[data-format=srt]"):
        box = page.locator(control).bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= 390
    assert _serious_violations(page) == []
    screenshot(page, "phone")
