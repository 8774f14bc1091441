"""Headless Chromium for the browser tests (replay viewer, HTML report), driven by selenium."""

from __future__ import annotations

import os
import shutil

import pytest


def chromium() -> tuple[str, str]:
    """(browser, driver) paths; skips only where Chromium is truly missing, and never in CI."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", browser), ("chromium-driver", driver)) if not path]
    if missing:
        reason = (
            f"headless Chromium is not installed (apt-get install {' '.join(missing)}; .ci/run installs it)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason + ", and CI must run this test")
        pytest.skip(reason)
    return browser, driver


def headless_chromium(window: tuple[int, int]):
    """A selenium driver of headless Chromium with WebGL in software (no GPU here); quit() it when done.
    Skips where Chromium or selenium is missing (never in CI)."""
    browser, driver_path = chromium()
    pytest.importorskip("selenium", reason="selenium is in the dev dependency group: run `make setup`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={window[0]},{window[1]}",
                "--use-angle=swiftshader", "--enable-unsafe-swiftshader"):  # fmt: skip
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(driver_path))
