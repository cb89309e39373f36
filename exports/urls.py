from django.urls import path

from exports import views

app_name = "exports"

urlpatterns = [
    path("", views.export_list, name="list"),
    path("request/", views.request_export, name="request"),
    path("request/panel/", views.request_panel, name="request_panel"),
    path("<int:job_id>/status/", views.job_status, name="job_status"),
    path("<int:job_id>/download/", views.download, name="download"),
]
