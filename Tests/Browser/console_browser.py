#!/usr/bin/env python3
"""The console in a real browser: headless Debian chromium driven by Selenium through Debian's chromedriver.

Run by Tests/DocketctlTests/ConsoleBrowserTests.swift against a running `docketctl console` and a running
`docket-worker`: log in, read the overview, open a dead letter, replay it, watch the count drop on the live overview
(the refresh script, no reload) and the review get decided. Screenshots go to --screenshots. Exit 0 when every step
held; otherwise 1, with the step that failed on stderr and a screenshot of the page at the time.
"""
import argparse
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True, help="the console's base URL, http://127.0.0.1:PORT")
    parser.add_argument("--token", required=True)
    parser.add_argument("--dead-id", required=True, help="the dead letter to replay")
    parser.add_argument("--document-id", required=True, help="the documentId in its body")
    parser.add_argument("--review-id", required=True, help="the review its verdict decides")
    parser.add_argument("--screenshots", required=True, help="folder for the PNGs")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    os.makedirs(args.screenshots, exist_ok=True)

    options = webdriver.ChromeOptions()
    options.binary_location = args.chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                 "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    # Debian's chromedriver, never a download: Selenium Manager is not asked when the path is given.
    driver = webdriver.Chrome(service=Service(executable_path=args.chromedriver), options=options)
    step = "start"
    try:
        wait = WebDriverWait(driver, 20)

        step = "an unauthenticated visit gets the login form"
        driver.get(args.url + "/")
        wait.until(expected_conditions.presence_of_element_located((By.NAME, "token")))
        assert "Backlog" not in driver.page_source, "data shown before login"

        step = "log in with the token through the form"
        driver.find_element(By.NAME, "token").send_keys(args.token)
        driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "dead"), "1"))
        assert driver.find_element(By.ID, "backlog").text == "0", driver.find_element(By.ID, "backlog").text
        cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
        session = cookies.get("docket_console")
        assert session and session.get("httpOnly") and session.get("sameSite") == "Strict", session
        driver.save_screenshot(os.path.join(args.screenshots, "overview.png"))
        overview_tab = driver.current_window_handle

        step = "open the dead letters and the one to replay (in a second tab; the overview stays open)"
        driver.switch_to.new_window("tab")
        driver.get(args.url + "/")
        driver.find_element(By.LINK_TEXT, "Dead letters").click()
        wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, "table.dead")))
        driver.save_screenshot(os.path.join(args.screenshots, "dead-letters.png"))
        driver.find_element(By.LINK_TEXT, args.dead_id).click()
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "body"), args.document_id))
        driver.save_screenshot(os.path.join(args.screenshots, "dead-letter.png"))

        step = "replay it, confirming first"
        driver.find_element(By.CSS_SELECTOR, "form.actions button:not(.danger)").click()
        wait.until(expected_conditions.presence_of_element_located((By.ID, "confirm")))
        assert "Replay 1 dead letter?" in driver.page_source
        driver.find_element(By.ID, "confirm").click()
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "result"), "Replayed 1 dead letter"))

        step = "the overview left open refreshes by itself and shows the dead letter gone"
        driver.switch_to.window(overview_tab)
        wait.until(expected_conditions.text_to_be_present_in_element((By.ID, "dead"), "0"))

        step = "the worker applied the replayed verdict"
        deadline = time.monotonic() + 30
        while True:
            driver.get(args.url + "/reviews/" + args.review_id)
            status = driver.find_element(By.ID, "status").text
            if status == "ACCEPTED":
                break
            if time.monotonic() > deadline:
                raise AssertionError("review %s is %s, not ACCEPTED" % (args.review_id, status))
            time.sleep(0.5)
        assert driver.find_element(By.ID, "verdict").text == "ACCEPTED"
        driver.save_screenshot(os.path.join(args.screenshots, "review.png"))
        print("console browser test: every step held; screenshots in %s" % args.screenshots)
        return 0
    except Exception as error:  # noqa: BLE001 - any failure is reported with the step it happened in
        driver.save_screenshot(os.path.join(args.screenshots, "failure.png"))
        print("console browser test failed at '%s': %s: %s" % (step, type(error).__name__, error), file=sys.stderr)
        return 1
    finally:
        driver.quit()


if __name__ == "__main__":
    sys.exit(main())
