from django.urls import path

from directory import views

app_name = "directory"

urlpatterns = [
    path("", views.customer_list, name="list"),
    path("<int:pk>/", views.customer_detail, name="customer"),
    path("pick/", views.pick_customers, name="pick_customers"),
    path("addresses/", views.address_results, name="addresses"),
]
