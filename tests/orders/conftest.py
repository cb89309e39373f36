"""Factories and fixtures of the order-entry tests (screens, forms, selectors).

Test modules cannot import this file (every conftest is "conftest"), so the factories are
handed out as fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import factory
import pytest
from factories import UserFactory

from covage.client import reset_client
from orders import referentials
from orders.models import LineContact, OrderLine, OrderSession, SyncStatus


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
def _fresh_referentials() -> Iterator[None]:
    reset_client()
    referentials.forget()
    yield
    referentials.forget()
    reset_client()


@pytest.fixture
def offline_covage(settings: Any) -> None:
    """Covage unreachable (nothing listens on this port): referentials fall back."""
    settings.COVAGE_API_URL = "http://127.0.0.1:9"
    settings.COVAGE_TOKEN_URL = "http://127.0.0.1:9/token"


@pytest.fixture
def cached_referentials() -> None:
    """Projects and ENNIs as if just read from Covage (no network in the test)."""
    from django.core.cache import cache

    projects = [
        referentials.ProjectChoice("PRJ-2024-001", "PRJ-2024-001"),
        referentials.ProjectChoice("PRJ-2025-003", "PRJ-2025-003"),
    ]
    ennis = [
        referentials.EnniChoice("CN012345", "CN012345 - Rouen (BPE)", "BPE", "ENNI_DEDIE"),
        referentials.EnniChoice("CN012346", "CN012346 - Rouen (BPEA)", "BPEA", "ENNI_DEDIE"),
        referentials.EnniChoice("CN012410", "CN012410 - Le Havre (BPE)", "BPE", "ENNI_MUTUALISE"),
        referentials.EnniChoice("CN031207", "CN031207 - Pérols (BPE)", "BPE", "COLLECTE_REGIONALE"),
    ]
    cache.set("orders:referential:projects", projects, 600)
    cache.set("orders:referential:ennis", ennis, 600)
