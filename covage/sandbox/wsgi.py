"""WSGI entry point of the sandbox process: the sandbox URLconf alone, on the portal settings."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

# Before settings are read: ROOT_URLCONF comes from PORTAL_URLCONF.
os.environ["PORTAL_URLCONF"] = "covage.sandbox.urls"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

application = get_wsgi_application()
