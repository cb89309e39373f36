from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CovageConfig(AppConfig):
    name = "covage"
    verbose_name = _("Covage API")
