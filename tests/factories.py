"""factory-boy factories shared by the suite."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from portal.roles import BACK_OFFICE, SALES

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Élodie"
    last_name = "Français"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: str | None, **kwargs: object) -> None:
        if create and extracted:
            self.groups.add(Group.objects.get_or_create(name=extracted)[0])
        if create:
            self.save()


def sales_user(**kwargs: object) -> object:
    return UserFactory(role=SALES, **kwargs)


def back_office_user(**kwargs: object) -> object:
    return UserFactory(role=BACK_OFFICE, is_staff=True, **kwargs)
