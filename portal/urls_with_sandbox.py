"""The portal and the Covage sandbox in one URLconf: the test suite's live server only.

Their paths do not overlap (the sandbox answers under /api/ and /auth/realms/), so one server
can play both roles. No setting selects it: tests set ROOT_URLCONF to it themselves. `make run`
serves the sandbox as its own process instead (see covage/sandbox/wsgi.py), and production
has no sandbox at all.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns

if "covage.sandbox" not in settings.INSTALLED_APPS:
    raise ImproperlyConfigured("The Covage sandbox is not installed (PORTAL_ENV=production).")

urlpatterns = [*portal_urlpatterns, path("", include("covage.sandbox.urls"))]
