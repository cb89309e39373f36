from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.models import Frequency, Kind, NotificationPreference


class PreferenceForm(forms.ModelForm):
    email_kinds = forms.MultipleChoiceField(
        label=_("Events that reach me by e-mail"),
        choices=Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Every event shows in the portal; tick those you also want by e-mail."),
    )
    frequency = forms.ChoiceField(
        label=_("E-mails"), choices=Frequency.choices, widget=forms.RadioSelect
    )
    language = forms.ChoiceField(label=_("Language of the e-mails"), choices=settings.LANGUAGES)

    class Meta:
        model = NotificationPreference
        fields = ("email_kinds", "frequency", "language")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.setdefault("email_kinds", list(self.instance.email_kinds or []))
