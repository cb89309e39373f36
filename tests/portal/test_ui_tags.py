"""The template tags that mark up what many pages show: times, filter selects, state badges."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.template import Context, Template
from django.utils import timezone, translation

from orders.models import SyncStatus


def render(source: str, **context: object) -> str:
    return Template("{% load portal_ui order_badges %}" + source).render(Context(context))


def test_a_moment_is_shown_in_local_time_with_its_iso_form():
    moment = dt.datetime(2026, 7, 14, 21, 5, tzinfo=dt.UTC)  # 23:05 in Paris (summer time)
    with translation.override("fr"):
        html = render("{% time_tag moment %}", moment=moment)
    assert html == '<time datetime="2026-07-14T23:05:00+02:00">14/07/2026 23:05</time>'
    with translation.override("en"):
        day = render('{% time_tag day "SHORT_DATE_FORMAT" %}', day=dt.date(2026, 12, 1))
    assert day.startswith('<time datetime="2026-12-01">') and "12" in day
    assert render("{% time_tag nothing %}", nothing=None) == ""


class Filters(forms.Form):
    status = forms.ChoiceField(required=False, choices=[("", "Any"), *SyncStatus.choices])


def test_a_filter_select_marks_the_current_choice_and_escapes_labels():
    html = render("{% filter_select field %}", field=Filters({"status": "draft"})["status"])
    assert html.startswith('<select name="status" id="id_status" class="form-select">')
    assert '<option value="draft" selected>' in html
    assert html.count(" selected") == 1
    unbound = render("{% filter_select field %}", field=Filters()["status"])
    assert '<option value="" selected>Any</option>' in unbound

    class Risky(forms.Form):
        pick = forms.ChoiceField(choices=[("a<b", "<b>bold</b> & co")])

    risky = render("{% filter_select field %}", field=Risky()["pick"])
    assert 'value="a&lt;b"' in risky and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in risky


def test_badges_say_how_a_state_stands():
    assert (
        render("{% state_badge 'rejected' %}")
        == '<span class="badge text-bg-danger">rejected</span>'
    )
    assert "text-bg-secondary" in render("{% state_badge 'something_new' %}")
    assert "not at Covage yet" in render("{% state_badge '' %}")
    syncing = render("{% sync_badge 'syncing' %}")
    assert "spinner-border" in syncing and "text-bg-info" in syncing
    assert "Sending to Covage" in syncing
    assert render("{% sync_badge 'sync_failed' %}") == (
        f'<span class="badge text-bg-danger">{SyncStatus.SYNC_FAILED.label}</span>'
    )
    with translation.override("fr"):
        assert "Envoi à Covage" in render("{% sync_badge 'syncing' %}")


def test_a_kept_time_follows_the_language_and_the_time_zone():
    # The markup is kept per value: the same moment asked in another language or time zone
    # is formatted again, not served from the first answer.
    moment = dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.UTC)
    source = '{% time_tag moment "DATE_FORMAT" %}'
    with translation.override("fr"):
        french = render(source, moment=moment)
    with translation.override("en"):
        english = render(source, moment=moment)
    with translation.override("fr"), timezone.override(dt.timezone(dt.timedelta(hours=-10))):
        elsewhere = render(source, moment=moment)
    assert french == '<time datetime="2026-01-05T09:30:00+01:00">5 janvier 2026</time>'
    assert english == '<time datetime="2026-01-05T09:30:00+01:00">5 January 2026</time>'
    assert elsewhere == '<time datetime="2026-01-04T22:30:00-10:00">4 janvier 2026</time>'
    # A date and the midnight of that day are different values.
    with translation.override("fr"):
        day = render(source, moment=dt.date(2026, 1, 5))
        midnight = render(source, moment=dt.datetime(2026, 1, 5))
    assert day == '<time datetime="2026-01-05">5 janvier 2026</time>'
    assert midnight == '<time datetime="2026-01-05T00:00:00">5 janvier 2026</time>'
