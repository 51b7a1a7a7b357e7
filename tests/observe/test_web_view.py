"""The worker's web view in a real headless browser (Debian's chromium driven by
Playwright): it loads, shows a running pipeline's numbers, and its key lookup answers
with the table's value (#15 item 2). A screenshot is saved when it fails."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

from observe_support import pipeline, send, worker
from playwright.sync_api import expect, sync_playwright

CHROMIUM = os.environ.get("STREAMCTL_CHROMIUM", "/usr/bin/chromium")
WORDS = [
    {"w": w, "n": 1} for w in ["to", "be", "or", "not", "to", "be", "that", "is", "the", "question"]
]
BAD = [{"n": 1}]


def test_the_page_shows_a_running_pipeline(tmp_path: Path) -> None:
    assert shutil.which(CHROMIUM), f"no chromium at {CHROMIUM} (scripts/test.sh installs it)"
    pipe, datadir = pipeline(tmp_path, "web"), tmp_path / "data"
    send(pipe, datadir, WORDS + BAD)
    counts = Counter(r["w"] for r in WORDS)
    shot = tmp_path / "web-view-failure.png"
    with worker(pipe, datadir) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1000, "height": 1100})
        try:
            page.goto(base)
            expect(page.locator("#app")).to_have_text("web")
            expect(page.locator("#ready")).to_have_text("ready")
            expect(page.locator("#processed")).to_have_text(str(len(WORDS) + len(BAD)))
            expect(page.locator("#dead")).to_have_text(str(len(BAD)))
            expect(page.locator("#deadletters tbody")).to_contain_text(
                "dead_letter:ValidationError"
            )
            expect(page.locator("#reasons tbody")).to_contain_text("ValidationError")
            expect(page.locator("#partitions tbody tr")).to_have_count(2)
            expect(page.locator("#tables tbody")).to_contain_text(f"counts{len(counts)}")
            page.fill("#key", "be")
            page.click("#lookup button")
            expect(page.locator("#result")).to_have_text(str(counts["be"]))
            page.fill("#key", "absent")
            page.click("#lookup button")
            expect(page.locator("#result")).to_have_text("no such key")
            if os.environ.get("STREAMCTL_SCREENSHOT"):
                page.fill("#key", "be")
                page.click("#lookup button")
                expect(page.locator("#result")).to_have_text(str(counts["be"]))
                page.screenshot(path=os.environ["STREAMCTL_SCREENSHOT"], full_page=True)
        except BaseException:
            page.screenshot(path=str(shot), full_page=True)
            print(f"screenshot of the failure: {shot}")
            raise
        finally:
            browser.close()
