"""The address search against the sandbox's BAN-compatible endpoint, over real HTTP: what
a result fills, and a slow or unreachable service, which the form states while staying
usable (the page's search waits about a second at most)."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse
from factories import sales_user

from directory import addresses
from directory.addresses import AddressSearchUnavailable

pytestmark = pytest.mark.django_db

# Nothing answers there: packets are dropped (or the network says it is unreachable).
UNROUTABLE = "http://10.255.255.1/ban"


@pytest.fixture
def ban(sandbox_url, settings):
    settings.ADDRESS_SEARCH_URL = sandbox_url + "/ban"
    return sandbox_url


def slow_sandbox(settings, seconds: float) -> None:
    settings.COVAGE_SANDBOX = {**settings.COVAGE_SANDBOX, "ADDRESS_DELAY": seconds}


def test_a_result_gives_every_site_field_accents_included(ban):
    (found,) = addresses.search("4 rue andrei sakharov mont-saint-aignan", limit=1)
    assert found.label == "4 Rue Andreï Sakharov 76130 Mont-Saint-Aignan"
    assert found.site_values() == {
        "street_number": "4",
        "street_number_extension": "",
        "street_name": "Rue Andreï Sakharov",
        "postcode": "76130",
        "city": "Mont-Saint-Aignan",
        "insee_code": "76451",
        # GeoJSON gives [longitude, latitude]: each lands in its own field.
        "latitude": 49.4744077,
        "longitude": 1.091455,
    }


def test_the_house_number_extension_is_split_from_the_number(ban):
    (found,) = addresses.search("4bis sakharov")
    assert (found.street_number, found.street_number_extension) == ("4", "bis")
    (corsica,) = addresses.search("chemin des ecoliers ajaccio")
    assert (corsica.insee_code, corsica.street_name) == ("2A004", "Chemin des Écoliers")
    assert addresses.split_housenumber("12 B") == ("12", "B")
    assert addresses.split_housenumber("") == ("", "")


def test_short_queries_and_no_match_ask_nothing_or_find_nothing(ban):
    assert addresses.search("4 ") == []
    assert addresses.search("zzzz nowhere") == []


def test_a_slow_service_is_given_up_after_about_a_second(ban, settings):
    slow_sandbox(settings, 3.0)
    started = time.monotonic()
    with pytest.raises(AddressSearchUnavailable):
        addresses.search("sakharov")
    assert time.monotonic() - started < 1.5


def test_an_unreachable_service_is_given_up_after_about_a_second(settings):
    settings.ADDRESS_SEARCH_URL = UNROUTABLE
    started = time.monotonic()
    with pytest.raises(AddressSearchUnavailable):
        addresses.search("sakharov")
    assert time.monotonic() - started < 1.5


def test_an_answer_that_is_not_geojson_is_unavailable(ban, settings):
    settings.ADDRESS_SEARCH_URL = ban + "/sandbox/about"  # JSON, but no features
    with pytest.raises(AddressSearchUnavailable):
        addresses.search("sakharov")


def test_the_search_partial_lists_buttons_that_carry_the_address(ban, client):
    client.force_login(sales_user())
    response = client.get(reverse("directory:addresses"), {"address_q": "place du marche"})
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="address_pick"' in page
    assert "8ter Place du Marché 35000 Rennes" in page
    assert "&quot;street_number_extension&quot;: &quot;ter&quot;" in page


def test_the_search_partial_says_when_the_service_is_slow(ban, settings, client):
    slow_sandbox(settings, 3.0)
    client.force_login(sales_user())
    started = time.monotonic()
    response = client.get(reverse("directory:addresses"), {"address_q": "sakharov"})
    assert time.monotonic() - started < 1.5
    assert response.status_code == 200
    assert "The address search is not answering right now" in response.content.decode()


def test_the_search_needs_a_login(client):
    response = client.get(reverse("directory:addresses"), {"address_q": "sakharov"})
    assert response.status_code == 302


def test_an_answer_is_kept_a_while_so_typing_back_asks_once(ban, settings):
    first = addresses.search("quai de la fosse")
    slow_sandbox(settings, 3.0)  # asked again, it would be too slow
    started = time.monotonic()
    assert addresses.search("Quai de la Fosse") == first
    assert time.monotonic() - started < 0.2
