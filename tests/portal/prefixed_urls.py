"""The portal's URLs under /prefixed/ (tests/portal/test_cached_url.py)."""

from django.urls import include, path

urlpatterns = [path("prefixed/", include("portal.urls"))]
