"""`{% url %}` exactly as Django's, with each URL reversed once per process.

Django's `reverse` walks the URL patterns and checks the result against them on every call:
15 to 30 µs here. The sessions list shows 18 (the navbar's links, its filters, one per row),
8 % of the page's time under load (issue 13). A URL depends only on the view name, its
arguments, the current app, the URLconf, the script prefix and the language (for translated
patterns), so it is kept for all of those together.

Installed as a template builtin (`TEMPLATES` in portal/settings.py): it replaces the `url`
tag of every template, the admin's included, without a `{% load %}`. Arguments other than
strings and integers (a model instance, say) are reversed on every call, as before.
"""

from __future__ import annotations

import functools
from typing import Any

from django import template
from django.conf import settings
from django.template import Context
from django.template.base import Parser, Token
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

# Argument types whose URL depends on their value alone, checked exactly: a bool (which
# equals 1 as a key) or a str subclass is reversed every time.
_PLAIN = (str, int)


class CachedURLNode(URLNode):
    def render(self, context: Context) -> str:
        # Django's URLNode.render, with `reverse` through the cache.
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app  # type: ignore[attr-defined]
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace  # type: ignore[attr-defined]
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = _reverse(view_name, args, kwargs, current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def _reverse(view_name: Any, args: list[Any], kwargs: dict[str, Any], current_app: Any) -> str:
    values = [*args, *kwargs.values()]
    if not isinstance(view_name, str) or not all(type(value) in _PLAIN for value in values):
        return reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
    return _cached_reverse(
        view_name,
        tuple((type(value), value) for value in args),
        tuple(sorted((key, type(value), value) for key, value in kwargs.items())),
        current_app,
        # Outside a request (an e-mail, a test), reverse falls back on the setting.
        get_urlconf() or settings.ROOT_URLCONF,
        get_script_prefix(),
        get_language(),
    )


@functools.lru_cache(maxsize=4096)
def _cached_reverse(
    view_name: str,
    args: tuple[tuple[type, Any], ...],
    kwargs: tuple[tuple[str, type, Any], ...],
    current_app: str | None,
    urlconf: str | None,
    script_prefix: str,
    language: str | None,
) -> str:
    # The URLconf, script prefix and language are read by reverse itself: in the key only.
    return reverse(
        view_name,
        args=[value for _, value in args],
        kwargs={key: value for key, _, value in kwargs},
        current_app=current_app,
    )


@register.tag
def url(parser: Parser, token: Token) -> CachedURLNode:
    """Django's `{% url %}` (same syntax, same errors), reversed through the cache."""
    node = django_url(parser, token)
    return CachedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
