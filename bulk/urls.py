from django.urls import path

from bulk import views

app_name = "bulk"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("hint/", views.hint, name="hint"),
    path("template.<str:fmt>", views.template, name="template"),
    path("lines.<str:fmt>", views.export_lines, name="export"),
    path("<int:batch_pk>/", views.preview, name="preview"),
    path("<int:batch_pk>/progress/", views.progress, name="progress"),
    path("<int:batch_pk>/rows/<int:index>/", views.fix_cell, name="fix_cell"),
    path("<int:batch_pk>/import/", views.confirm_import, name="confirm"),
    path("<int:batch_pk>/cancel/", views.cancel, name="cancel"),
]
