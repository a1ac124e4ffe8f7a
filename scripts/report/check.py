"""Open a `clever` HTML report in headless Chromium with the network cut off,
fail on any console error or page error, check that the page has at least
the expected number of charts and that every trace of every chart has data,
and save a full-page screenshot.

Usage: check.py REPORT.html MIN_CHARTS SCREENSHOT.png
"""

import sys

from playwright.sync_api import sync_playwright

COUNT_DATA = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(el => ({
    id: el.id,
    traces: (el.data || []).length,
    points: (el.data || []).map(t => (t.x || t.z || []).length),
    drawn: el.querySelectorAll('.main-svg').length,
}))"""


def main():
    report, min_charts, screenshot = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        # Self-contained: any request off the page itself is refused.
        context.route("**/*", lambda route: route.continue_()
                      if route.request.url.startswith("file://") else route.abort())
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: errors.append("request refused: " + r.url))
        page.goto("file://" + report)
        page.wait_for_load_state("load")
        charts = page.evaluate(COUNT_DATA)
        page.screenshot(path=screenshot, full_page=True)
        browser.close()
    problems = list(errors)
    if len(charts) < min_charts:
        problems.append(f"{len(charts)} charts, expected at least {min_charts}")
    for c in charts:
        if c["traces"] == 0 or 0 in c["points"] or c["drawn"] == 0:
            problems.append(f"chart {c['id']} has no data or was not drawn: {c}")
    if problems:
        sys.exit(f"{report}:\n  " + "\n  ".join(problems))
    shown = ", ".join(f"{c['id']}: {sum(c['points'])} points" for c in charts)
    print(f"{report}: {len(charts)} charts drawn, no console errors ({shown}); {screenshot}")


if __name__ == "__main__":
    main()
