"""Headless Chromium driven by Selenium, for the dashboard test and screenshots. Debian's
`chromium` and `chromium-driver` (installed by `make test-deps`) are required: their absence is a
failure, never a skip."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")


def browser(width=1440, height=1000, color_scheme=None):
    """A headless Chromium that can reach loopback only (other host names do not resolve, so a
    page that needed the internet would show it). color_scheme: "dark", "light" or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(path), f"{path} is missing: `make test-deps` installs chromium and chromium-driver"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}", "--hide-scrollbars",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    if color_scheme:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia",
                               {"features": [{"name": "prefers-color-scheme", "value": color_scheme}]})
    return driver


def dataset(driver, selector):
    """The data-* attributes of one element, read in one step (a consistent view of the page)."""
    return driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? Object.assign({}, e.dataset) : null;", selector)


def text(driver, selector):
    return driver.execute_script("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", selector)
