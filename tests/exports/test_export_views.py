"""The Exports page, its htmx partials and downloads: what each user may see and fetch."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import time_format
from export_factories import CSV_BODY, ExportJobFactory, finished_job
from factories import back_office_user, sales_user

from exports import services, tasks
from exports.models import ExportGuard, ExportJob

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("exports:list")


def body(response) -> str:
    return response.content.decode()


def test_anonymous_users_are_sent_to_login(client):
    job = finished_job()
    for url in (
        LIST,
        reverse("exports:job_status", args=[job.pk]),
        reverse("exports:download", args=[job.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    response = client.post(reverse("exports:request"))
    assert response.status_code == 302 and ExportJob.objects.count() == 1


def test_empty_state(client):
    client.force_login(sales_user())
    response = client.get(LIST)
    assert response.status_code == 200
    assert "No exports yet." in body(response)
    assert "Request export" in body(response)
    assert "disabled" not in body(response).split('id="export-request"')[1].split("</form>")[0]


def test_request_export_then_the_button_says_when_the_next_one_is_allowed(client, sent_tasks):
    user = sales_user()
    client.force_login(user)

    response = client.post(reverse("exports:request"), follow=True)

    job = ExportJob.objects.get()
    assert job.requested_by == user and job.status == ExportJob.Status.QUEUED
    assert [call.args for call in sent_tasks.named("start")] == [(job.pk,)]
    page = body(response)
    assert "Export requested." in page
    allowed = timezone.localtime(services.next_export_allowed_at(account="demo"))
    # The page's own text gives the time in the language's format.
    assert f"Next export possible at {time_format(allowed, 'TIME_FORMAT')}" in page
    form = page.split('id="export-request"')[1].split("</form>")[0]
    assert "disabled" in form
    # The running job polls its own card.
    assert f'hx-get="{reverse("exports:job_status", args=[job.pk])}"' in page
    assert 'hx-trigger="every 2s"' in page


def test_second_request_inside_the_window_is_explained(client, sent_tasks):
    client.force_login(sales_user())
    client.post(reverse("exports:request"))

    response = client.post(reverse("exports:request"), follow=True)

    assert "Covage allows one export every 5 minutes. Next export possible at" in body(response)
    assert ExportJob.objects.count() == 1


def test_request_needs_a_post(client):
    client.force_login(sales_user())
    assert client.get(reverse("exports:request")).status_code == 405
    assert ExportJob.objects.count() == 0


def test_request_needs_the_csrf_token():
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(sales_user())
    assert csrf_client.post(reverse("exports:request")).status_code == 403


def test_status_partial_polls_while_running_and_stops_when_done(client):
    user = sales_user()
    client.force_login(user)
    job = ExportJobFactory(requested_by=user, status=ExportJob.Status.RUNNING, task_id="t-1")
    url = reverse("exports:job_status", args=[job.pk])

    running = body(client.get(url, headers={"HX-Request": "true"}))
    assert 'hx-trigger="every 2s"' in running and "spinner-border" in running
    assert "Covage is preparing the file" in running and "Elapsed:" in running

    job.status = ExportJob.Status.SUCCEEDED
    job.save()
    done_job = finished_job(requested_by=user)
    done = body(client.get(reverse("exports:job_status", args=[done_job.pk])))
    assert "hx-trigger" not in done and "hx-get" not in done
    assert reverse("exports:download", args=[done_job.pk]) in done
    assert "2 rows" in done


def test_failures_are_explained_in_words(client):
    user = sales_user()
    client.force_login(user)
    failed = ExportJobFactory(
        requested_by=user,
        status=ExportJob.Status.FAILED,
        finished_at=timezone.now(),
        error="Covage could not produce the file: the export failed on Covage's side.",
        error_code="success_false",
    )
    card = body(client.get(reverse("exports:job_status", args=[failed.pk])))
    assert "Export failed." in card and "Covage could not produce the file" in card
    assert "hx-trigger" not in card
    page = body(client.get(LIST))
    assert "Covage could not produce the file" in page


def test_download_streams_the_file_as_an_attachment(client):
    user = sales_user()
    client.force_login(user)
    job = finished_job(requested_by=user)

    response = client.get(reverse("exports:download", args=[job.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"covage-export-{timezone.localtime(job.finished_at):%Y-%m-%d}" in disposition
    assert b"".join(response.streaming_content).decode() == CSV_BODY


def test_another_sales_users_job_is_a_404(client):
    owner = sales_user()
    job = finished_job(requested_by=owner)
    client.force_login(sales_user())

    assert client.get(reverse("exports:job_status", args=[job.pk])).status_code == 404
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
    assert f"export-row-{job.pk}" not in body(client.get(LIST))


def test_back_office_sees_and_downloads_every_job(client):
    job = finished_job(requested_by=sales_user(first_name="Anaïs", last_name="Roussel"))
    scheduled = finished_job(requested_by=None, trigger=ExportJob.Trigger.SCHEDULED)
    client.force_login(back_office_user())

    page = body(client.get(LIST))

    assert f"export-row-{job.pk}" in page and f"export-row-{scheduled.pk}" in page
    assert "Anaïs Roussel" in page and "Schedule" in page
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 200


def test_expired_or_missing_file_is_a_404(client):
    user = sales_user()
    client.force_login(user)
    expired = finished_job(requested_by=user)
    expired.expires_at = timezone.now() - timedelta(seconds=1)
    expired.save()
    missing = finished_job(requested_by=user)
    missing.owner_file.storage.delete(missing.owner_file.name)
    running = ExportJobFactory(requested_by=user, status=ExportJob.Status.RUNNING)

    for job in (expired, missing, running):
        assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
    assert "File expired" in body(client.get(LIST))


def test_list_serves_the_history_partial_to_htmx_with_vary(client):
    user = sales_user()
    client.force_login(user)
    finished_job(requested_by=user)

    full = client.get(LIST)
    partial = client.get(LIST, headers={"HX-Request": "true"})

    assert "<html" in body(full) and "<html" not in body(partial)
    assert 'id="export-history"' in body(partial)
    for response in (full, partial):
        assert "HX-Request" in response["Vary"]


def test_user_requests_watches_and_downloads_an_export(client, sandbox, sent_tasks):
    user = sales_user()
    client.force_login(user)
    client.post(reverse("exports:request"))
    job = ExportJob.objects.get()
    status_url = reverse("exports:job_status", args=[job.pk])
    assert "Waiting to start" in body(client.get(status_url))

    tasks.start_export.run(job.pk)
    assert "Covage is preparing the file" in body(client.get(status_url))
    tasks.poll_export.run(job.pk, expected_poll=0)

    card = body(client.get(status_url))
    assert "hx-trigger" not in card and "Download CSV" in card
    download = client.get(reverse("exports:download", args=[job.pk]))
    assert b"".join(download.streaming_content).startswith(b"product_order_id;")


def test_admin_lists_jobs_with_filters_and_search(client):
    job = finished_job(requested_by=sales_user(username="camille"))
    client.force_login(back_office_user())
    url = reverse("admin:exports_exportjob_changelist")

    page = body(client.get(url, {"status__exact": "succeeded", "q": "camille"}))

    assert f"/admin/exports/exportjob/{job.pk}/change/" in page
    assert "By status" in page and "By trigger" in page
    assert "Retry selected exports" in page
    assert f"/admin/exports/exportjob/{job.pk}/change/" not in body(
        client.get(url, {"q": "nobody"})
    )


def test_admin_retry_action_queues_failed_jobs_again(client, sent_tasks):
    failed = ExportJobFactory(
        status=ExportJob.Status.FAILED,
        finished_at=timezone.now(),
        error="Covage could not produce the file.",
        error_code="success_false",
        task_id="gone",
    )
    client.force_login(back_office_user())

    response = client.post(
        reverse("admin:exports_exportjob_changelist"),
        {"action": "retry_selected", "_selected_action": [failed.pk]},
        follow=True,
    )

    assert "1 export queued again." in body(response)
    failed.refresh_from_db()
    assert failed.status == ExportJob.Status.QUEUED and failed.error == ""
    assert [call.args for call in sent_tasks.named("start")] == [(failed.pk,)]


def test_the_disabled_button_comes_back_when_the_window_opens(client, settings):
    settings.COVAGE_USERNAME = "demo"
    client.force_login(sales_user())
    ExportGuard.objects.create(
        account="demo", next_allowed_at=timezone.now() + timedelta(seconds=90)
    )
    panel = client.get(reverse("exports:request_panel")).content.decode()
    assert "disabled" in panel
    assert 'hx-trigger="load delay:90s"' in panel or 'hx-trigger="load delay:89s"' in panel
    ExportGuard.objects.filter(account="demo").update(next_allowed_at=timezone.now())
    panel = client.get(reverse("exports:request_panel")).content.decode()
    assert "disabled" not in panel and "hx-trigger" not in panel
