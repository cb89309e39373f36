"""Forms of the reconciliation page: filters, and the three ways to resolve a difference."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from orders.models import OrderLine, OrderSession
from reconciliation.models import Difference

ALL = "all"


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[*Difference.Status.choices, (ALL, _("Any status"))],
    )
    kind = forms.ChoiceField(
        label=_("Kind"),
        required=False,
        choices=[("", _("Every kind")), *Difference.Kind.choices],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in self.fields:
            self.fields[name].widget.attrs["class"] = "form-select"

    def filters(self) -> dict[str, str]:
        """``status`` and ``kind`` to filter on (open differences unless told otherwise);
        a value that is not a choice is ignored rather than refused."""
        status = Difference.Status.OPEN.value
        kind = ""
        if self.is_bound:
            raw_status = self.data.get("status")
            if raw_status in Difference.Status.values:
                status = raw_status
            elif raw_status == ALL:
                status = ""
            if self.data.get("kind") in Difference.Kind.values:
                kind = self.data["kind"]
        return {"status": status, "kind": kind}


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=1000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason for dismissing this difference.")},
        help_text=_("Why the difference can stay as it is; kept with the difference."),
    )


class LinkForm(forms.Form):
    target = forms.ModelChoiceField(
        queryset=OrderSession.objects.none(),
        label=_("Portal object"),
        empty_label=None,
        error_messages={
            "required": _("Choose the portal object to link."),
            "invalid_choice": _("This portal object cannot be linked any more: choose another."),
        },
    )

    def __init__(
        self,
        *args: Any,
        candidates: QuerySet[OrderSession] | QuerySet[OrderLine],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = candidates
