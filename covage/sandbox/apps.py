from django.apps import AppConfig


class SandboxConfig(AppConfig):
    name = "covage.sandbox"
    label = "sandbox"
    verbose_name = "Covage sandbox (simulated API)"
