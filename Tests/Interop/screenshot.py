"""Screenshots of the dashboard (`make screenshot`): dark and light, the market view and the admin
view, plus a phone-width one, as PNGs in screenshots/ (or --out DIR). It starts its own gateway
(simulator feed) from .build/debug and drives headless Chromium like the tests do."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from auth_helpers import SECRET, token  # noqa: E402
from browser_helpers import browser, dataset  # noqa: E402
from conftest import Server  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def wait(driver, condition, timeout=15):
    WebDriverWait(driver, timeout, poll_frequency=0.2).until(lambda d: condition())


def viewport(driver, width, height):
    """An exact viewport (a headless window cannot be narrower than 500 px); phones below 600 px."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600})


def full_page(driver, path, width):
    """The whole page, not only the first screen: the viewport is grown to the page's height."""
    viewport(driver, width, driver.execute_script("return document.documentElement.scrollHeight"))
    time.sleep(0.5)  # a frame or two for the canvas to redraw at the new size
    driver.save_screenshot(path)
    viewport(driver, width, 1000)
    print("wrote", os.path.relpath(path))


def market_ready(driver):
    wait(driver, lambda: dataset(driver, "#book").get("checksumOk") == "true")
    wait(driver, lambda: driver.execute_script("return document.querySelectorAll('#tape-body tr').length") >= 6, timeout=20)


def admin_ready(driver):
    driver.find_element(By.ID, "admin-token").send_keys(token("desk-admin", role="admin"))
    driver.find_element(By.ID, "admin-connect").click()
    wait(driver, lambda: dataset(driver, "#conn-admin")["state"] == "connected")
    driver.find_element(By.ID, "broadcast-message").send_keys("Release 2.4 goes out at 18:00 UTC; expect reconnects.")
    Select(driver.find_element(By.ID, "broadcast-level")).select_by_value("warning")
    driver.find_element(By.ID, "broadcast-send").click()
    driver.find_element(By.ID, "kick-target").send_keys("u-1042")
    wait(driver, lambda: int(dataset(driver, "#admin").get("statsPushes", 0)) >= 1, timeout=10)


def shoot(base, out, theme, width, views):
    driver = browser(width=max(width, 500), height=1000, color_scheme=theme)
    try:
        viewport(driver, width, 1000)
        driver.get(base + "/dashboard/")
        market_ready(driver)
        time.sleep(4)  # let the sparklines gather a few seconds of history
        if "market" in views:
            full_page(driver, os.path.join(out, views["market"]), width)
        if "admin" in views:
            admin_ready(driver)
            full_page(driver, os.path.join(out, views["admin"]), width)
    finally:
        driver.quit()


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(ROOT, "screenshots"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    config = os.path.join(ROOT, "config", "gateway.yaml")
    server = Server("gateway", ["serve", "--config", config],
                    env={"JWT_SECRET": SECRET, "LOG_LEVEL": "warning", "FEED_SOURCE": "simulator"})
    try:
        for theme in ("dark", "light"):
            shoot(server.base, args.out, theme, 1440, {"market": f"market-{theme}.png", "admin": f"admin-{theme}.png"})
        shoot(server.base, args.out, "dark", 412, {"market": "phone-dark.png"})
    finally:
        server.stop()


if __name__ == "__main__":
    main()
