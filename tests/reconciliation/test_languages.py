"""What the reconciliation stores is language-neutral, and is read in the reader's language:
a worker has no reader, and each back-office agent reads in their own language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from exports.models import ExportJob
from orders.models import LineContact, OrderSession
from reconciliation import services, texts
from reconciliation.comparison import Summary, mark_gone
from reconciliation.models import Comparison, Difference

pytestmark = pytest.mark.django_db

Kind = Difference.Kind
Status = Difference.Status


def stored_job() -> ExportJob:
    return ExportJob.objects.create(covage_account="demo", status=ExportJob.Status.SUCCEEDED)


def test_a_gone_difference_is_stored_in_english_and_read_in_french(french):
    french["No longer found in export #%(job)s."] = (
        "Plus trouvé dans l\u2019export n°\u00a0%(job)s."
    )
    job = stored_job()
    now = timezone.now()
    difference = Difference.objects.create(
        kind=Kind.VALUE,
        key="value:line:cov-1:note",
        field="note",
        seen_in_export_started_at=now - timedelta(hours=1),
    )

    with translation.override("fr"):  # a worker whose language is French
        assert mark_gone(job=job, export_started_at=now) == 1

    difference.refresh_from_db()
    assert difference.status == Status.GONE
    assert difference.resolution == f"No longer found in export #{job.pk}."
    assert (difference.resolution_code, difference.resolution_params) == (
        texts.GONE,
        {"job": job.pk},
    )
    with translation.override("fr"):
        assert difference.resolution_text == f"Plus trouvé dans l\u2019export n°\u00a0{job.pk}."
    with translation.override("en"):
        assert difference.resolution_text == f"No longer found in export #{job.pk}."


def test_the_compared_columns_label_is_the_readers(french):
    french["%(label)s (contact entry)"] = "%(label)s (entrée de contact)"
    french["Covage state"] = "État chez Covage"
    value = Difference(kind=Kind.VALUE, field="contact_city")
    state = Difference(kind=Kind.STATE, field="state")

    with translation.override("fr"):
        city = str(LineContact._meta.get_field("city").verbose_name)
        assert value.field_label == f"{city} (entrée de contact)"
        assert state.field_label == "État chez Covage"
    with translation.override("en"):
        assert value.field_label == "City (contact entry)"
        assert state.field_label == "Covage state"
    assert Difference(kind=Kind.MISSING_AT_COVAGE).field_label == ""


def test_the_built_texts_follow_the_catalogue():
    # Without a fake: whatever the French catalogue holds, the text shown is gettext's.
    difference = Difference(
        kind=Kind.STATE,
        field="state",
        status=Status.APPLIED,
        resolution="Applied: Covage is the source of truth for states.",
        resolution_code=texts.APPLIED_STATE,
    )
    with translation.override("fr"):
        assert difference.resolution_text == gettext(
            "Applied: Covage is the source of truth for states."
        )
        assert difference.field_label == gettext("Covage state")


def test_a_dismissal_keeps_the_reason_as_typed(back_office):
    difference = Difference.objects.create(
        kind=Kind.VALUE, key="value:line:cov-2:note", field="note"
    )
    with translation.override("fr"):
        services.dismiss(user=back_office, difference=difference, reason="Vu avec Covage")
    difference.refresh_from_db()
    assert difference.resolution == "Vu avec Covage" and difference.resolution_code == ""
    with translation.override("fr"):
        assert difference.resolution_text == "Vu avec Covage"


def test_a_link_names_the_session_as_it_reads_now(french, sales):
    french["Linked to session %(session)s."] = "Rattaché à la session %(session)s."
    session = OrderSession.objects.create(owner=sales, external_id="PAPER-1")
    difference = Difference.objects.create(
        kind=Kind.UNKNOWN_AT_PORTAL,
        key="unknown_at_portal:session:cov-foreign",
        covage_session_id="cov-foreign",
        external_id="PAPER-1",
        session=session,
        status=Status.RESOLVED,
        resolution="Linked to session PAPER-1.",
        resolution_code=texts.LINKED_SESSION,
        resolution_params={"session": "PAPER-1"},
    )
    OrderSession.objects.filter(pk=session.pk).update(external_id="PAPER-1-BIS")
    difference = Difference.objects.select_related("session").get(pk=difference.pk)
    with translation.override("fr"):
        assert difference.resolution_text == "Rattaché à la session PAPER-1-BIS."
    difference.session = None  # the session was deleted: the stored name
    with translation.override("en"):
        assert difference.resolution_text == "Linked to session PAPER-1."


def test_an_unknown_code_shows_the_stored_text():
    difference = Difference(resolution="Done by hand.", resolution_code="no_such_code")
    assert difference.resolution_text == "Done by hand."


def test_a_comparisons_error_is_read_in_the_readers_language(french):
    french["The export's file cannot be read: %(reason)s"] = (
        "Le fichier de l\u2019export ne peut pas être lu\u00a0: %(reason)s"
    )
    summary = Summary(job_id=1)
    summary.fail(Comparison.Status.FAILED, texts.UNREADABLE, reason="no header row")
    assert summary.error == "The export's file cannot be read: no header row"
    comparison = Comparison.objects.create(
        export_job=stored_job(),
        status=summary.status,
        summary=summary.as_dict(),
        error=summary.error,
    )
    with translation.override("fr"):
        assert comparison.error_text == (
            "Le fichier de l\u2019export ne peut pas être lu\u00a0: no header row"
        )
    with translation.override("en"):
        assert comparison.error_text == "The export's file cannot be read: no header row"
    assert Comparison(error="Old text.", summary={}).error_text == "Old text."


def test_an_export_without_a_file_says_so_in_english_with_its_code():
    summary = services.reconcile_export(job_id=0)
    assert summary.status == "skipped"
    assert summary.error_code == texts.NO_FILE
    assert summary.error == "This export has no file to compare."


def test_rows_written_before_get_the_code_of_their_english_text():
    from importlib import import_module

    from django.apps import apps

    migration = import_module("reconciliation.migrations.0002_language_neutral_texts")
    job = stored_job()
    rows = {
        "gone": Difference.objects.create(
            kind=Kind.VALUE,
            key="value:line:a:note",
            status=Status.GONE,
            resolution=f"No longer found in export #{job.pk}.",
        ),
        "linked": Difference.objects.create(
            kind=Kind.UNKNOWN_AT_PORTAL,
            key="unknown_at_portal:line:b",
            status=Status.RESOLVED,
            resolution="Linked to line CP-1 · line 2.",
        ),
        "dismissed": Difference.objects.create(
            kind=Kind.VALUE,
            key="value:line:c:note",
            status=Status.DISMISSED,
            resolution="Created again at Covage.",  # a person's words, however they read
        ),
        "missing": Difference.objects.create(
            kind=Kind.MISSING_AT_COVAGE,
            key="missing_at_covage:line:d",
            covage_line_id="d",
            portal_value="Line 3 · acknowledged · Pâtisserie Gérard",
        ),
    }

    migration.forwards(apps, None)

    for row in rows.values():
        row.refresh_from_db()
    assert (rows["gone"].resolution_code, rows["gone"].resolution_params) == (
        texts.GONE,
        {"job": job.pk},
    )
    assert rows["linked"].resolution_params == {"line": "CP-1 · line 2"}
    assert rows["dismissed"].resolution_code == ""
    assert rows["missing"].portal_value == "acknowledged · Pâtisserie Gérard"
