"""Exports by role: the back office downloads the account-wide file; a salesperson the rows of
their own sessions only, cut from the same file. Files are readable by their owner only."""

from __future__ import annotations

import os
import stat

import pytest
from django.urls import reverse
from factories import back_office_user, sales_user
from order_data import fill_line

from exports import services
from exports.models import ExportJob
from orders import services as orders

pytestmark = pytest.mark.django_db(transaction=True)


def run_export(user) -> ExportJob:
    job = services.request_export(user=user)
    services.start_export_job(job_id=job.pk)
    assert services.poll_export_job(job_id=job.pk) is True
    job.refresh_from_db()
    return job


def download(client, user, job: ExportJob) -> str:
    client.force_login(user)
    response = client.get(reverse("exports:download", args=[job.pk]))
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_a_salesperson_downloads_only_their_own_customers(sandbox, client, settings):
    settings.EXPORT_WINDOW_SECONDS = 0
    sandbox(EXPORT_WINDOW=0)
    sophie, marc = sales_user(), sales_user()
    fill_line(sophie, orders.create_session(user=sophie), end_customer_name="Boulangerie Sophie")
    fill_line(marc, orders.create_session(user=marc), end_customer_name="Garage Marc Éloi")

    job = run_export(sophie)
    mine = download(client, sophie, job)
    assert "Boulangerie Sophie" in mine
    assert "Garage Marc Éloi" not in mine
    assert mine.splitlines()[0].startswith("product_order_id;")  # the same columns
    assert job.owner_row_count == 1 and job.row_count >= 2

    everything = download(client, back_office_user(), job)
    assert "Boulangerie Sophie" in everything and "Garage Marc Éloi" in everything

    # Marc cannot reach Sophie's job at all; scheduled exports are the back office's.
    client.force_login(marc)
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
    scheduled = services.run_scheduled_export(slot="daily:2026-11-30")
    services.start_export_job(job_id=scheduled.pk)
    services.poll_export_job(job_id=scheduled.pk)
    assert client.get(reverse("exports:download", args=[scheduled.pk])).status_code == 404
    assert "Garage Marc Éloi" in download(client, back_office_user(), scheduled)


def test_export_files_are_readable_by_their_owner_only(sandbox, settings):
    settings.EXPORT_WINDOW_SECONDS = 0
    sandbox(EXPORT_WINDOW=0)
    user = sales_user()
    fill_line(user, orders.create_session(user=user))
    job = run_export(user)
    for stored in (job.file, job.owner_file):
        mode = stat.S_IMODE(os.stat(stored.path).st_mode)
        assert mode == 0o600, oct(mode)
    folder = stat.S_IMODE(os.stat(os.path.dirname(job.file.path)).st_mode)
    assert folder == 0o700, oct(folder)
