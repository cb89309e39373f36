from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SandboxConfig(AppConfig):
    name = "covage.sandbox"
    label = "sandbox"
    verbose_name = _("Covage sandbox (simulated API)")
