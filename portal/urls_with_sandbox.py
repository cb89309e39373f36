"""The portal and the Covage sandbox in one URLconf.

Their paths do not overlap (the sandbox answers under /api/ and /auth/realms/), so one server
can play both roles: the test suite's live server and one-process demos use this. `make run`
serves the sandbox as its own process instead (see covage/sandbox/wsgi.py).
"""

from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns

urlpatterns = [*portal_urlpatterns, path("", include("covage.sandbox.urls"))]
