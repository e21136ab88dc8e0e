"""The docs site checked as a person would: built, served on loopback, read in Chromium.

Builds the committed generated_docs/ with mkdocs, serves it on 127.0.0.1, and opens the
pension page in headless Chromium (Debian's, driven by playwright with
``executable_path``; no browser is downloaded). Skips only when chromium is absent; CI
installs it (.ci/run).
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from .conftest import PENSION, REPO

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The built site, served on a free loopback port; yields its base URL."""
    out = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(out)],
        cwd=REPO,
        check=True,
        timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from playwright import sync_api as playwright_api  # the docs extra; CI installs it

    profile = tmp_path_factory.mktemp("chromium-profile")
    with playwright_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def test_policy_page_shows_clause_quote_note_and_matrix(site: str, page: object) -> None:
    page.goto(f"{site}policies/{PENSION}/")  # type: ignore[attr-defined]
    clause = page.locator("#clause-age")  # type: ignore[attr-defined]
    assert clause.is_visible()
    assert "高龄倾斜调整" in clause.inner_text()
    # The verbatim quote of 三、（三）1., as a blockquote linking to the source anchor.
    quote = page.locator("blockquote", has_text="年满70周岁不满80周岁的，每人每月加发30元").first  # type: ignore[attr-defined]
    assert quote.is_visible()
    link = quote.locator("a[href$='#s3-3-1']").first
    assert link.is_visible()
    # An interpretation note as an admonition: the birthday rule of the age clause.
    note = page.locator(".admonition", has_text="以生日当日为满周岁之日").first  # type: ignore[attr-defined]
    assert note.is_visible()
    # The age table with its bounds in the document's words.
    row = page.locator("table tr", has_text="年满70不满80").first  # type: ignore[attr-defined]
    assert row.is_visible()
    assert "30" in row.inner_text()

    # Following the quote's link lands on the anchored article in the source text.
    link.click()
    page.wait_for_url("**/sources/pension-adjustment-2021/#s3-3-1")  # type: ignore[attr-defined]
    article = page.locator("[id='s3-3-1']")  # type: ignore[attr-defined]
    assert article.count() == 1

    page.goto(f"{site}matrices/{PENSION}/")  # type: ignore[attr-defined]
    probe = page.locator("table tr", has_text="age_at_cutoff=69").first  # type: ignore[attr-defined]
    assert probe.is_visible()
    assert "0.00" in probe.inner_text()
    at_seventy = page.locator("table tr", has_text="age_at_cutoff=70").first  # type: ignore[attr-defined]
    assert "30.00" in at_seventy.inner_text()
    csv_link = page.locator(f"a[href$='{PENSION}.csv']").first  # type: ignore[attr-defined]
    assert csv_link.is_visible()


def search(page: object, site: str, query: str) -> list[str]:
    """Type a query into the site's search box; the result links, once some appear."""
    page.goto(site)  # type: ignore[attr-defined]
    page.locator(".md-search__input").first.click()  # type: ignore[attr-defined]
    page.locator("input.md-search__input").fill(query)  # type: ignore[attr-defined]
    results = page.locator(".md-search-result__item a")  # type: ignore[attr-defined]
    results.first.wait_for(timeout=20_000)
    return [results.nth(i).get_attribute("href") or "" for i in range(results.count())]


def test_chinese_search_finds_the_pension_page(site: str, page: object) -> None:
    hrefs = search(page, site, "养老金")
    assert f"policies/{PENSION}/" in hrefs[0], hrefs
    assert not any("transport-penalty-discretion-2021" in h for h in hrefs), hrefs
    # a term of the transport measure finds the transport page, not the pension one
    hrefs = search(page, site, "自由裁量权")
    assert any("policies/transport-penalty-discretion-2021/" in h for h in hrefs), hrefs
    assert not any(PENSION in h for h in hrefs), hrefs
