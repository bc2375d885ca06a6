"""The dashboard when its sink goes away and comes back, in headless Chromium (Selenium), for
DaybookIntegrationTests.DashboardTests.

    dashboard_recovery.py URL

Prints "opened" once the page shows, "down <banner text> | <problem text>" once the page says
the sink does not answer (the test stops the sink after "opened"), and "recovered" once the
banner is gone and the figures are back (the test restarts the sink after "down"), all without
a reload. Exits 0 when it saw all three within two minutes each.
"""
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service


def wait(condition, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    return None


def main():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,1000"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(sys.argv[1])
        driver.execute_script("window.daybookMarker = 42;")
        if not driver.execute_script('return document.getElementById("now") !== null'):
            print("no figures on the first load", flush=True)
            return 1
        print("opened", flush=True)

        # Read in one script call: the page swaps its <main> while we look.
        def down():
            return driver.execute_script(
                """
                const banner = document.getElementById("connection");
                const problem = document.getElementById("problem");
                return banner.classList.contains("shown") && problem ? banner.textContent + " | " + problem.textContent : null;
                """)

        said = wait(down)
        if not said:
            print("the page never said the sink was down", flush=True)
            return 1
        print(f"down {said}", flush=True)

        def recovered():
            return driver.execute_script(
                """return !document.getElementById("connection").classList.contains("shown")
                          && document.getElementById("now") !== null;""")

        if not wait(recovered):
            print("the page never recovered", flush=True)
            return 1
        same = driver.execute_script("return window.daybookMarker === 42")
        print("recovered" if same else "recovered, but by a reload", flush=True)
        return 0 if same else 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
