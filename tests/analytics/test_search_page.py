"""The search page as a person sees it, in headless Chromium (Debian's, via Playwright)."""

import pytest

from apps.analytics.search.services import embeddings_backfill
from tests.acting import as_user
from tests.browser import SCREENSHOTS

from .search_data import LIFE, store_life

PASSWORD = "a long enough password"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def reader(make_user):
    # Database work happens before Playwright starts its event loop in this thread.
    user = make_user("reader", password=PASSWORD)
    store_life(user.pk)
    with as_user(user):
        embeddings_backfill(user_id=user.pk)
    # The web process embeds queries with the same model: load it before the clock runs.
    from apps.analytics.embeddings import embed_query

    embed_query("warm up")
    return user


@pytest.fixture
def newcomer(make_user):
    user = make_user("newcomer", password=PASSWORD)
    store_life(user.pk)  # imported, not embedded yet
    return user


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_search_in_plain_words_and_filter(reader, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, live_server.url, "reader")

    page.click("header.top a[href='/search/']")
    page.wait_for_url(f"{live_server.url}/search/")
    page.fill("input[name=q]", "that ramen place in Osaka")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("ol.hits li")
    first = page.locator("ol.hits li").first
    assert "Ichiran Dotonbori" in first.locator(".title").inner_text()
    assert "maps.saved_place" in first.locator(".kind").inner_text()
    # The user's zone (none chosen: settings.TIME_ZONE, UTC), never labelled "UTC".
    assert first.locator("time").inner_text() == "2024-04-02 12:00"
    # A minimum relevance: the unrelated events are not called matches.
    assert 1 <= page.locator("ol.hits li").count() < len(LIFE)
    page.screenshot(path=str(SCREENSHOTS / "search.png"), full_page=True)

    # The query's own words are marked, and the event that has them is said to.
    page.fill("input[name=q]", "dotonbori noodles")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("ol.hits li mark")
    first = page.locator("ol.hits li").first
    assert first.get_attribute("data-words") == "yes"
    assert [m.inner_text() for m in first.locator("mark").all()][:2] == ["Dotonbori", "noodle"]
    page.screenshot(path=str(SCREENSHOTS / "search-words.png"), full_page=True)

    # Close to nothing: said so, and the nearest few shown apart.
    page.fill("input[name=q]", "quantum chromodynamics lattice gauge")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("section.nearest ol.hits li")
    assert "Nothing close to" in page.locator("p.no-hits").inner_text()
    assert page.locator("ol.hits:not(.nearest) li").count() == 0
    assert 1 <= page.locator("section.nearest li").count() <= 3
    page.screenshot(path=str(SCREENSHOTS / "search-nothing-close.png"), full_page=True)

    # The same question, only YouTube videos watched: the filters are kept on the page.
    page.fill("input[name=q]", "videos about woodworking")
    page.select_option("select[name=kind]", "youtube.watch")
    page.click("form.search button[type=submit]")
    page.wait_for_selector("ol.hits li")
    hits = page.locator("ol.hits li")
    assert hits.count() == 1
    assert "walnut dining table" in hits.first.inner_text()
    assert page.locator("select[name=kind]").input_value() == "youtube.watch"
    page.screenshot(path=str(SCREENSHOTS / "search-filtered.png"), full_page=True)

    page.goto(f"{live_server.url}/search/?q=ramen&start=not-a-date")
    assert "is not a date" in page.locator("[role=alert]").inner_text()


def test_a_fresh_import_shows_indexing_in_progress(newcomer, browser, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1200, "height": 600})
    sign_in(page, live_server.url, "newcomer")
    page.goto(f"{live_server.url}/search/?q=ramen")
    assert f"Indexing {len(LIFE)} events…" in page.locator("section.empty").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "search-indexing.png"), full_page=True)
