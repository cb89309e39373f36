from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from bulk import sheets
from bulk.models import ImportBatch

TOO_LARGE = _("The file is larger than %(max)s MB: split it into several files.")


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Sheet to import"),
        help_text=_("A CSV file or an Excel workbook (.xlsx), with the template's columns."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,.txt"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        limit = settings.BULK_IMPORT_MAX_UPLOAD_MB
        if upload.size > limit * 1024 * 1024:
            raise forms.ValidationError(TOO_LARGE, code="too_large", params={"max": limit})
        if not upload.size:
            raise forms.ValidationError(sheets.EMPTY, code="empty")
        try:
            sheets.kind(upload.name or "")
        except sheets.SheetError as exc:
            raise forms.ValidationError(exc.message, code="file_type") from exc
        return upload


class ImportForm(forms.Form):
    policy = forms.ChoiceField(
        label=_("Rows to import"),
        choices=ImportBatch.Policy.choices,
        initial=ImportBatch.Policy.ALL_OR_NONE,
        widget=forms.RadioSelect,
    )
    again = forms.BooleanField(label=_("Import it again"), required=False)
