"""Factories and fixtures of the order-entry tests (screens, forms, selectors).

Test modules cannot import this file (every conftest is "conftest"), so the factories are
handed out as fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import factory
import pytest
from django.utils import timezone
from factories import UserFactory

from covage.client import reset_client
from orders.models import (
    LineContact,
    OrderLine,
    OrderSession,
    ReferentialSnapshot,
    SyncStatus,
)


class OrderSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderSession

    owner = factory.SubFactory(UserFactory, role="sales")
    external_id = factory.Sequence(lambda n: f"CP-TEST-{n:05d}")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    session = factory.SubFactory(OrderSessionFactory)
    position = factory.Sequence(lambda n: n + 1)
    product_offering_id = "2173"
    product_offering_qualification_item_id = factory.Sequence(lambda n: f"qual-{n:04d}")
    offer_family = "BPE"
    offer_technology = "FIBDE"
    enni = "CN012345"
    end_customer_name = "Société Générale de Fibre"
    sync_status = SyncStatus.DRAFT


class LineContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LineContact

    line = factory.SubFactory(OrderLineFactory)
    position = 0
    end_customer_name = "Société Générale de Fibre"
    contact1_firstname = "Hélène"
    contact1_lastname = "Dupré"
    contact1_email_address = "helene.dupre@example.fr"
    contact1_phone_number = "+33123456789"
    street_number = "4"
    street_name = "Rue Andreï Sakharov"
    postcode = "76130"
    city = "Mont-Saint-Aignan"
    insee_code = "76451"


@pytest.fixture
def session_factory() -> type[OrderSessionFactory]:
    return OrderSessionFactory


@pytest.fixture
def line_factory() -> type[OrderLineFactory]:
    return OrderLineFactory


@pytest.fixture
def contact_factory() -> type[LineContactFactory]:
    return LineContactFactory


@pytest.fixture
def complete_line() -> Any:
    """A line that passes the confirmation check, with its first contact."""

    def make(**kwargs: Any) -> OrderLine:
        line = OrderLineFactory(**kwargs)
        LineContactFactory(line=line)
        return line

    return make


# --- URLs and referentials ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    # Users are made by the hundred here; PBKDF2 would be most of the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_client() -> Iterator[None]:
    reset_client()
    yield
    reset_client()


@pytest.fixture
def offline_covage(settings: Any) -> None:
    """Covage unreachable (nothing listens on this port)."""
    settings.COVAGE_API_URL = "http://127.0.0.1:9"
    settings.COVAGE_TOKEN_URL = "http://127.0.0.1:9/token"


STORED_PROJECTS = [
    {"code": "PRJ-2024-001", "end_date": ""},
    {"code": "PRJ-2025-003", "end_date": ""},
]
STORED_ENNIS = [
    {
        "reference": "CN012345",
        "label": "CN012345 - Rouen (BPE)",
        "offer": "BPE",
        "delivery_mode": "ENNI_DEDIE",
    },
    {
        "reference": "CN012346",
        "label": "CN012346 - Rouen (BPEA)",
        "offer": "BPEA",
        "delivery_mode": "ENNI_DEDIE",
    },
    {
        "reference": "CN012410",
        "label": "CN012410 - Le Havre (BPE)",
        "offer": "BPE",
        "delivery_mode": "ENNI_MUTUALISE",
    },
    {
        "reference": "CN031207",
        "label": "CN031207 - Pérols (BPE)",
        "offer": "BPE",
        "delivery_mode": "COLLECTE_REGIONALE",
    },
]


@pytest.fixture
def cached_referentials(db: Any) -> None:
    """Projects and ENNIs as if the background refresh had just stored them (no network)."""
    now = timezone.now()
    for name, items in (
        (ReferentialSnapshot.Name.PROJECTS, STORED_PROJECTS),
        (ReferentialSnapshot.Name.ENNIS, STORED_ENNIS),
    ):
        ReferentialSnapshot.objects.update_or_create(
            name=name, defaults={"items": items, "refreshed_at": now, "checked_at": now}
        )


@pytest.fixture
def no_referentials(db: Any) -> None:
    """Nothing stored yet: the refresh never ran (a fresh install)."""
    ReferentialSnapshot.objects.all().delete()
