"""Read queries for export jobs: who may see which."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from exports.models import ExportJob
from portal.roles import is_back_office


def export_jobs_for(*, user: User | AnonymousUser) -> QuerySet[ExportJob]:
    """A sales user's own jobs; every job (scheduled ones included) for the back office."""
    jobs = ExportJob.objects.select_related("requested_by")
    if is_back_office(user):
        return jobs
    if not user.is_authenticated:
        return jobs.none()
    return jobs.filter(requested_by=user)


def export_job_for(*, user: User | AnonymousUser, job_id: int) -> ExportJob:
    """One job the user may see, or Http404 (another user's job looks like no job)."""
    return get_object_or_404(export_jobs_for(user=user), pk=job_id)
