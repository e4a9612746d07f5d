"""The admin works on a box without internet: no map widget from a CDN."""

import pytest
from django.contrib.gis.geos import Point

from apps.lake.models import Place

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    return client


def test_a_place_shows_and_saves_its_point_as_text(staff_client, owner):
    place = Place.objects.create(
        user=owner, place_id="ChIJ-test", location=Point(-9.1393, 38.7223, srid=4326)
    )
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
    place.refresh_from_db()
    assert (place.name, place.location.x, place.location.y) == ("Miradouro", -9.13, 38.71)


@pytest.mark.parametrize("model", ["event", "locationpoint", "place", "visit"])
def test_lake_change_lists_render(staff_client, model):
    assert staff_client.get(f"/admin/lake/{model}/").status_code == 200
