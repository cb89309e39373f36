from django.urls import path

from reconciliation import views

app_name = "reconciliation"

urlpatterns = [
    path("", views.difference_list, name="list"),
    path("<int:pk>/push-again/", views.push_again, name="push_again"),
    path("<int:pk>/link/", views.link, name="link"),
    path("<int:pk>/dismiss/", views.dismiss, name="dismiss"),
]
