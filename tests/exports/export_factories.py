"""ExportJob factory for the export tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone
from factories import UserFactory

from exports.models import ExportJob

CSV_BODY = "product_order_id;end_customer_name\r\n1;Société Générale\r\n2;Crêperie Bréhat\r\n"


class ExportJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExportJob

    requested_by = factory.SubFactory(UserFactory)
    trigger = ExportJob.Trigger.MANUAL
    covage_account = "demo"
    status = ExportJob.Status.QUEUED


def finished_job(**kwargs: object) -> ExportJob:
    """A succeeded job with a small CSV file in storage."""
    now = timezone.now()
    job = ExportJobFactory(
        status=ExportJob.Status.SUCCEEDED,
        task_id="5f0c8a3e-0000-4000-8000-000000000001",
        finished_at=now,
        expires_at=now + timedelta(days=7),
        row_count=2,
        **kwargs,
    )
    data = CSV_BODY.encode()
    job.file.save(job.download_filename, ContentFile(data), save=False)
    # What its requester downloads (the rows of their sessions: here, the same rows).
    job.owner_file.save(job.download_filename, ContentFile(data), save=False)
    job.owner_row_count = 2
    job.size_bytes = len(data)
    job.save()
    return job
