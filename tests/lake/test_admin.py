"""The admin works on a box without internet: no map widget from a CDN."""

import pytest
from django.contrib.gis.geos import Point

from apps.lake.models import Place
from tests.acting import as_user, refreshed

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    return client


def test_a_place_shows_and_saves_its_point_as_text(staff_client, owner, admin_access):
    with as_user(owner):
        place = Place.objects.create(
            user=owner, place_id="ChIJ-test", location=Point(-9.1393, 38.7223, srid=4326)
        )
    admin_access(staff_client, "owner", reason="fix a place's point")
    url = f"/admin/lake/place/{place.pk}/change/"

    page = staff_client.get(url).content.decode()
    assert "SRID=4326;POINT (-9.1393 38.7223)" in page
    assert "https://" not in page.split("<body")[0]  # no script or style from elsewhere

    response = staff_client.post(
        url,
        {
            "user": owner.pk,
            "place_id": "ChIJ-test",
            "name": "Miradouro",
            "address": "",
            "semantic_type": "",
            "location": "SRID=4326;POINT (-9.13 38.71)",
            "data": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    refreshed(place)
    assert (place.name, place.location.x, place.location.y) == ("Miradouro", -9.13, 38.71)


@pytest.mark.parametrize("model", ["event", "locationpoint", "place", "visit"])
def test_lake_change_lists_render(staff_client, model):
    assert staff_client.get(f"/admin/lake/{model}/").status_code == 200


def test_the_import_page_stays_light_with_100k_entries(
    staff_client, owner, django_assert_max_num_queries, admin_access
):
    from apps.lake.models import Import, ImportEntry

    products = ["location.records", "photos.sidecar", ""]
    with as_user(owner):
        run = Import.objects.create(user=owner, fingerprint="f" * 64, members_total=100_000)
        ImportEntry.objects.bulk_create(
            (
                ImportEntry(
                    import_run=run,
                    user=owner,
                    path=f"Takeout/member-{i:06d}.json",
                    product=products[i % 3],
                    status="skipped" if products[i % 3] == "" else "done",
                    records_written=2,
                )
                for i in range(100_000)
            ),
            batch_size=10_000,
        )

    admin_access(staff_client, "owner", reason="why an import took long")
    with django_assert_max_num_queries(20):
        page = staff_client.get(f"/admin/lake/import/{run.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert len(html) < 100_000  # no row per member
    assert "member-000001" not in html
    # Summed up by product and status, with counts...
    assert "photos.sidecar" in html and ">33333<" in html and ">33334<" in html
    assert ">66666<" in html  # written records of the 33,333 photo sidecars
    # ...each linking to the entry list filtered to it, which pages.
    link = f"/admin/lake/importentry/?import_run__id__exact={run.pk}&amp;product=photos.sidecar&amp;status=done"
    assert link in html
    listing = staff_client.get(link.replace("&amp;", "&"))
    assert listing.status_code == 200
    listed = listing.content.decode()
    assert "33333 import entries" in listed or "33,333" in listed, listed[-3000:]
    assert listed.count('name="_selected_action"') == 100  # one page of rows
