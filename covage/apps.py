from django.apps import AppConfig


class CovageConfig(AppConfig):
    name = "covage"
    verbose_name = "Covage API"
