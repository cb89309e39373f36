"""Every URL pattern of orders.urls, walked as an anonymous user, as another sales user and as
the back office, with GET and with POST.

The patterns are read from the resolver, so a view added later is walked too; its kwargs are
filled with a real session, line and step of user A.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, get_resolver, reverse
from factories import back_office_user, sales_user

from orders import services
from orders.models import OrderLine, OrderSession

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cached_referentials")]


def orders_patterns() -> list[URLPattern]:
    resolver = get_resolver("orders.urls")
    return [pattern for pattern in resolver.url_patterns if isinstance(pattern, URLPattern)]


PATTERNS = orders_patterns()
NAMES = [pattern.name for pattern in PATTERNS]
OWNED = [pattern.name for pattern in PATTERNS if pattern.pattern.converters]


def test_the_walk_covers_every_pattern():
    assert len(NAMES) == len(set(NAMES)) >= 14
    assert {"list", "new", "session", "line_step", "check", "confirm"} <= set(NAMES)
    # Every pattern is reachable under the namespace the project includes.
    for pattern in PATTERNS:
        assert set(pattern.pattern.converters) <= {"session_pk", "line_pk", "step"}


@pytest.fixture
def owned(session_factory):
    """User A's session with one line, made through the services."""
    owner = sales_user(username="owner-a")
    session = services.create_session(user=owner, external_id="A-SESSION")
    line = services.add_line(user=owner, session=session)
    return owner, session, line


def url_of(name: str, session: OrderSession, line: OrderLine) -> str:
    pattern = next(pattern for pattern in PATTERNS if pattern.name == name)
    values = {"session_pk": session.pk, "line_pk": line.pk, "step": "technical"}
    kwargs = {key: values[key] for key in pattern.pattern.converters}
    return reverse(f"orders:{name}", kwargs=kwargs)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", NAMES)
def test_anonymous_users_are_sent_to_login(client, owned, name, method):
    _, session, line = owned
    response = getattr(client, method)(url_of(name, session, line))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("headers", [{}, {"HTTP_HX_REQUEST": "true"}], ids=["page", "htmx"])
@pytest.mark.parametrize("name", OWNED)
def test_another_sales_user_gets_404(client, owned, name, method, headers):
    _, session, line = owned
    client.force_login(sales_user(username="intruder-b"))
    line_version = line.version
    response = getattr(client, method)(url_of(name, session, line), **headers)
    assert response.status_code == 404
    # Nothing changed.
    assert OrderSession.objects.filter(pk=session.pk).exists()
    refreshed = OrderLine.objects.get(pk=line.pk)
    assert refreshed.deleted_at is None and refreshed.version == line_version
    assert OrderLine.objects.filter(session=session).count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("name", NAMES)
def test_back_office_reaches_every_url(client, owned, name, method):
    _, session, line = owned
    client.force_login(back_office_user())
    response = getattr(client, method)(url_of(name, session, line))
    # 405 where a URL takes the other method only; never a 404 or a 500.
    assert response.status_code in (200, 302, 405), response.status_code


@pytest.mark.parametrize("name", NAMES)
def test_the_owner_never_gets_a_server_error(client, owned, name):
    owner, session, line = owned
    client.force_login(owner)
    for method in ("get", "post"):
        response = getattr(client, method)(url_of(name, session, line))
        assert response.status_code in (200, 302, 405), (method, response.status_code)


def test_another_users_lists_do_not_show_the_session(client, owned):
    client.force_login(sales_user(username="intruder-c"))
    assert "A-SESSION" not in client.get(reverse("orders:list")).content.decode()
    assert (
        "A-SESSION"
        not in client.get(
            reverse("orders:list"), {"search": "A-SESSION"}, HTTP_HX_REQUEST="true"
        ).content.decode()
    )
