"""`{% url %}` (portal/templatetags/cached_url.py, a template builtin): the same URLs and errors
as Django's own tag, kept per view name, arguments, app, URLconf, prefix and language."""

from __future__ import annotations

import pytest
from django.template import Context, Engine, Template
from django.template.defaulttags import URLNode
from django.urls import NoReverseMatch, clear_script_prefix, reverse, set_script_prefix
from django.utils import translation

from portal.templatetags.cached_url import CachedURLNode


def render(source: str, **context: object) -> str:
    return Template(source).render(Context(context))


def django_render(source: str, **context: object) -> str:
    """The same template with Django's own tag (an engine without the builtin)."""
    return Engine().from_string(source).render(Context(context))


CASES = [
    ("{% url 'orders:list' %}", {}),
    ("{% url 'orders:session' 12 %}", {}),
    ("{% url 'orders:session' pk %}", {"pk": 7}),
    ("{% url 'orders:session' pk %}", {"pk": "8"}),
    ("{% url 'orders:line' session_pk=3 line_pk=pk %}", {"pk": 4}),
    ("{% url name pk %}", {"name": "orders:check", "pk": 5}),
    ("{% url 'orders:list' as here %}[{{ here }}]", {}),
    ("{% url 'orders:session' 'not-a-number' as nowhere %}[{{ nowhere }}]", {}),
]


@pytest.mark.parametrize(("source", "context"), CASES)
def test_every_template_renders_the_urls_djangos_tag_renders(source, context):
    # Twice: the second answer comes from the cache.
    assert render(source, **context) == django_render(source, **context)
    assert render(source, **context) == django_render(source, **context)


def test_the_tag_is_the_cached_one_without_a_load():
    (node,) = Template("{% url 'orders:list' %}").nodelist.get_nodes_by_type(URLNode)
    assert isinstance(node, CachedURLNode)


def test_a_url_that_does_not_exist_raises_as_before():
    with pytest.raises(NoReverseMatch):
        render("{% url 'orders:session' 'not-a-number' %}")
    with pytest.raises(NoReverseMatch):
        render("{% url 'orders:nothing' %}")


def test_the_script_prefix_is_part_of_the_answer():
    source = "{% url 'orders:session' 21 %}"
    assert render(source) == "/orders/21/"
    set_script_prefix("/portal/")
    try:
        assert render(source) == "/portal/orders/21/" == reverse("orders:session", args=[21])
    finally:
        clear_script_prefix()
        set_script_prefix("/")
    assert render(source) == "/orders/21/"


def test_the_urlconf_is_part_of_the_key(settings):
    # Outside a request, reverse reads ROOT_URLCONF: a test that changes it gets its URLs.
    assert render("{% url 'orders:list' %}") == "/orders/"
    settings.ROOT_URLCONF = "tests.portal.prefixed_urls"
    assert render("{% url 'orders:list' %}") == "/prefixed/orders/"


def test_the_language_is_part_of_the_key():
    # Our URLs are not translated; the key still keeps each language apart.
    with translation.override("fr"):
        french = render("{% url 'orders:list' %}")
    with translation.override("en"):
        english = render("{% url 'orders:list' %}")
    assert french == english == reverse("orders:list")


class Ref:
    """An argument whose URL text comes from str(), and may change."""

    def __init__(self, number: int) -> None:
        self.number = number

    def __str__(self) -> str:
        return str(self.number)


def test_other_arguments_are_reversed_every_time():
    ref = Ref(31)
    source = "{% url 'orders:session' ref %}"
    assert render(source, ref=ref) == "/orders/31/"
    ref.number = 32
    assert render(source, ref=ref) == "/orders/32/"


def test_an_integer_and_a_boolean_are_kept_apart():
    # True == 1 and hash(True) == hash(1): the key has each value's type.
    assert render("{% url 'orders:session' value %}", value=1) == "/orders/1/"
    with pytest.raises(NoReverseMatch):
        render("{% url 'orders:session' value %}", value=True)
