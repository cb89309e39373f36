from django.urls import path, register_converter

from orders import views
from orders.steps import STEPS


class StepConverter:
    """Only the slugs of the five steps match, so no other path under a line is taken for one."""

    regex = "|".join(step.slug for step in STEPS)

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(StepConverter, "step")

app_name = "orders"

urlpatterns = [
    path("", views.session_list, name="list"),
    path("new/", views.new_session, name="new"),
    path("<int:session_pk>/", views.session_detail, name="session"),
    path("<int:session_pk>/lines/", views.session_lines, name="session_lines"),
    path("<int:session_pk>/sync/", views.retry_sync, name="retry_sync"),
    path("<int:session_pk>/lines/add/", views.add_line, name="add_line"),
    path("<int:session_pk>/check/", views.check, name="check"),
    path("<int:session_pk>/confirm/", views.confirm, name="confirm"),
    path("<int:session_pk>/copy-rejected/", views.copy_rejected, name="copy_rejected"),
    path("<int:session_pk>/lines/<int:line_pk>/", views.line_detail, name="line"),
    path(
        "<int:session_pk>/lines/<int:line_pk>/duplicate/",
        views.duplicate_line,
        name="duplicate_line",
    ),
    path("<int:session_pk>/lines/<int:line_pk>/delete/", views.delete_line, name="delete_line"),
    path(
        "<int:session_pk>/lines/<int:line_pk>/replace/",
        views.replace_line_offer,
        name="replace_line",
    ),
    path("<int:session_pk>/lines/<int:line_pk>/ennis/", views.enni_options, name="enni_options"),
    path("<int:session_pk>/lines/<int:line_pk>/<step:step>/", views.line_step, name="line_step"),
]
