"""Drives the dashboard in a real headless Chromium (Debian's chromium and chromium-driver)
through Selenium, for DaybookIntegrationTests.DashboardTests.

    dashboard_check.py URL WINDOW SCREENSHOT_DIR

Prints one JSON object per line: {"phase": "initial", ...} once the page shows, then
{"phase": "closed", ...} once WINDOW's row says closed without a reload (the test closes it
meanwhile), then {"phase": "phone", ...} from a phone-sized window. Each carries the windows
table as the page shows it and the browser console's errors. Exits 0 unless the browser could
not be driven or WINDOW never showed closed within two minutes.
"""
import json
import sys
import time
from urllib.parse import quote

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


# Read in one script call: the page swaps its <main> every few seconds, and elements found
# one by one may belong to the content just replaced.
ROWS = """
const shown = {};
for (const row of document.querySelectorAll("table.windows tr[data-window]")) {
  const cell = row.querySelector("td[data-column=changes]");
  shown[row.dataset.window] = {status: row.dataset.status, changes: cell ? cell.textContent.trim() : null};
}
return shown;
"""

TABLES = """
const tables = {};
for (const row of document.querySelectorAll("table.tables tr[data-table]")) {
  const cells = {};
  for (const cell of row.querySelectorAll("td[data-column]")) { cells[cell.dataset.column] = cell.textContent.trim(); }
  tables[row.dataset.table] = cells;
}
return tables;
"""


def rows(driver):
    return driver.execute_script(ROWS)


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def report(phase, driver, **extra):
    print(json.dumps({"phase": phase, "windows": rows(driver), "console_errors": console_errors(driver), **extra}), flush=True)


def main():
    url, window, screenshots = sys.argv[1], sys.argv[2], sys.argv[3]
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1400"]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(url)
        title = driver.title
        # Gone if the page were reloaded: the close must show without one.
        driver.execute_script("window.daybookMarker = 42;")
        report("initial", driver, title=title)
        deadline = time.time() + 120
        while time.time() < deadline:
            if rows(driver).get(window, {}).get("status") == "closed":
                break
            time.sleep(0.5)
        else:
            report("timeout", driver)
            return 1
        # One more refresh, so that the figures are those of the closed window's final rows.
        time.sleep(6)
        stamp = driver.execute_script("return document.getElementById('updated').textContent")
        driver.save_screenshot(f"{screenshots}/dashboard.png")
        report("closed", driver, updated=stamp, same_document=driver.execute_script("return window.daybookMarker === 42"))
        driver.set_window_size(390, 844)
        time.sleep(1)
        overflow = driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        driver.save_screenshot(f"{screenshots}/dashboard-phone.png")
        report("phone", driver, overflow=overflow)
        driver.set_window_size(1200, 1400)
        driver.get(f"{url.rstrip('/')}/windows/{quote(window, safe='')}")
        report("window", driver, tables=driver.execute_script(TABLES))
        return 0
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
