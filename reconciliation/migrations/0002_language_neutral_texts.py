"""Stored texts become language-neutral: a difference's label is its column's, found when shown;
what the portal did is kept as a code and its parameters (reconciliation.texts), shown in the
reader's language. Rows written before keep their English text, and get the code it names."""

import re

from django.db import migrations, models

# The English texts written until now, and their codes (as in reconciliation.texts, copied so
# that this migration does not change when the texts do).
FIXED = {
    "Applied: Covage is the source of truth for states.": "applied_state",
    "Sent again to Covage with the portal's values.": "pushed_again",
    "Created again at Covage.": "created_again",
    "Created again at Covage, with its lines.": "created_again_with_lines",
}
PATTERNS = (
    (re.compile(r"^No longer found in export #(?P<job>\d+)\.$"), "gone", "job"),
    (re.compile(r"^Linked to line (?P<line>.+)\.$"), "linked_line", "line"),
    (re.compile(r"^Linked to session (?P<session>.+)\.$"), "linked_session", "session"),
)
# A missing line's portal value began with its position in words ("Line 3 · ..."): the line
# is the difference's subject, so the value keeps values only.
LINE_WORDS = re.compile(r"^(?:Line|Ligne) \d+(?: · |$)")


def _code(text):
    if text in FIXED:
        return FIXED[text], {}
    for pattern, code, name in PATTERNS:
        match = pattern.match(text)
        if match:
            value = match.group(name)
            return code, {name: int(value) if name == "job" else value}
    return "", {}


def forwards(apps, schema_editor):
    Difference = apps.get_model("reconciliation", "Difference")
    # Read first, then written: SQLite does not isolate a cursor from the writes of its own
    # connection.
    resolved = list(
        Difference.objects.exclude(status__in=["open", "dismissed"])
        .exclude(resolution="")
        .values_list("pk", "resolution")
    )
    for pk, resolution in resolved:
        code, params = _code(resolution)
        if code:
            Difference.objects.filter(pk=pk).update(
                resolution_code=code, resolution_params=params
            )
    missing_lines = list(
        Difference.objects.filter(kind="missing_at_covage")
        .exclude(covage_line_id="")
        .values_list("pk", "portal_value")
    )
    for pk, portal_value in missing_lines:
        value = LINE_WORDS.sub("", portal_value, count=1)
        if value != portal_value:
            Difference.objects.filter(pk=pk).update(portal_value=value)


class Migration(migrations.Migration):
    dependencies = [
        ("reconciliation", "0001_initial"),
    ]

    operations = [
        migrations.RemoveField(
            model_name="difference",
            name="field_label",
        ),
        migrations.AddField(
            model_name="difference",
            name="resolution_code",
            field=models.CharField(blank=True, editable=False, max_length=32),
        ),
        migrations.AddField(
            model_name="difference",
            name="resolution_params",
            field=models.JSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
