from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("lines/", views.line_list, name="lines"),
    path("sessions/", views.session_list, name="sessions"),
]
