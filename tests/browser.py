"""Real Chromium for the dashboard tests: Debian's ``chromium`` package driven by Playwright.

No browser is ever downloaded (``executable_path``). Where chromium is missing the tests say so
and are skipped; ``make test`` installs it first when it can (tests/ensure_chromium.sh)."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BRICKYARD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
# The test run's output: screenshots land here (CI keeps the folder as an artifact).
OUTPUT = Path(os.environ.get("BRICKYARD_TEST_OUTPUT", Path(__file__).parent.parent / "test-output"))


def chromium_missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return (
            f"chromium is not installed ({CHROMIUM} not found): the dashboard tests in "
            "tests/acceptance/test_dashboard.py did not run. Install it with `apt-get install -y chromium`."
        )
    return None


async def launch() -> AsyncIterator:  # type: ignore[type-arg]
    missing = chromium_missing()
    if missing:
        pytest.skip(missing)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        context = await browser.new_context(viewport={"width": 1366, "height": 800})
        try:
            yield context
        finally:
            await context.close()
            await browser.close()


def screenshot_path(name: str) -> Path:
    folder = OUTPUT / "dashboard"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.png"
