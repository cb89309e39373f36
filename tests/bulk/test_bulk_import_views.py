"""The import pages through the test client: who may see them, POST and CSRF only for
changes, every bad file a message on the field (never a 500), preview, fix, import."""

from __future__ import annotations

import io

import pytest
from bulk_data import csv_bytes, row, xlsx_bytes
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from factories import sales_user
from openpyxl import load_workbook

from bulk import columns
from bulk.models import ImportBatch
from orders.models import OrderLine
from orders.services import create_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    return create_session(user=sales_user(), external_id="VIEW-1")


@pytest.fixture
def client_in(client, session):
    client.force_login(session.owner)
    return client


def upload(client, session, content, name="lines.csv"):
    return client.post(
        reverse("bulk:upload", args=[session.pk]),
        {"file": SimpleUploadedFile(name, content)},
    )


def test_the_session_page_links_to_the_import(client_in, session):
    page = client_in.get(reverse("orders:session", args=[session.pk])).content.decode()
    assert reverse("bulk:upload", args=[session.pk]) in page
    assert "Import from a sheet" in page


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_template_has_a_column_per_field_and_an_example_row(client_in, session, fmt):
    response = client_in.get(reverse("bulk:template", args=[session.pk, fmt]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    if fmt == "csv":
        text = response.content.decode("utf-8-sig")
        header = text.splitlines()[0].split(",")
        assert header[0] == "Product offering identifier" and len(header) == len(columns.COLUMNS)
        assert "Mont-Saint-Aignan" in text
    else:
        workbook = load_workbook(io.BytesIO(response.content))
        sheet = workbook.worksheets[0]
        assert sheet.cell(1, 1).value == "Product offering identifier"
        assert sheet.cell(2, columns.COLUMNS.index("city") + 1).value == "Mont-Saint-Aignan"
        validations = sheet.data_validations.dataValidation
        offer = f"{chr(ord('A') + columns.COLUMNS.index('offer_family'))}2"
        assert any(offer in str(validation.sqref) for validation in validations)
        assert workbook.worksheets[1].sheet_state == "hidden"


def test_a_file_name_with_accents_downloads(client_in):
    session = create_session(user=sales_user(), external_id="CAFÉ «1»")
    client_in.force_login(session.owner)
    response = client_in.get(reverse("bulk:export", args=[session.pk, "csv"]))
    assert response.status_code == 200
    assert "filename*=utf-8''CAF%C3%89" in response["Content-Disposition"]


def test_the_template_speaks_french(client_in, session):
    client_in.cookies["django_language"] = "fr"
    response = client_in.get(reverse("bulk:template", args=[session.pk, "csv"]))
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert "Code postal" in header.split(";")


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "lines.csv", "The submitted file is empty."),
        (b"%PDF-1.4\x00\x00", "lines.csv", "not a spreadsheet"),
        (b"PK\x03\x04truncated", "lines.xlsx", "damaged or incomplete"),
        (b"Postcode\n", "lines.csv", "no rows below its header"),
        (b"whatever", "lines.docx", "Send a .csv or .xlsx file."),
    ],
)
def test_bad_files_are_told_on_the_field(client_in, session, content, name, message):
    response = upload(client_in, session, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_an_oversized_file_is_refused(client_in, session, settings):
    settings.BULK_IMPORT_MAX_UPLOAD_MB = 0.0001
    response = upload(client_in, session, csv_bytes([row()]))
    assert response.status_code == 400
    assert "larger than 0.0001 MB" in response.content.decode()


def test_too_many_rows(client_in, session, settings):
    settings.BULK_IMPORT_MAX_ROWS = 1
    response = upload(client_in, session, csv_bytes([row(), row()]))
    assert response.status_code == 400
    assert "more than 1 row" in response.content.decode()


def test_preview_fix_and_import(client_in, session):
    response = upload(client_in, session, csv_bytes([row(), row(postcode="7613")]))
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("bulk:preview", args=[session.pk, batch.pk])
    page = client_in.get(response["Location"]).content.decode()
    assert "Valid rows: 1 of 2." in page
    assert 'aria-describedby="error-1-postcode"' in page
    assert 'id="error-1-postcode"' in page and "Enter a French postcode" in page
    assert not OrderLine.objects.exists()

    fixed = client_in.post(
        reverse("bulk:fix_cell", args=[session.pk, batch.pk, 1]),
        {"field": "postcode", "value": "76130"},
        HTTP_HX_REQUEST="true",
    )
    assert fixed.status_code == 200
    text = fixed.content.decode()
    assert text.startswith('<tr id="row-1">') and "76130" in text
    assert "Valid rows: 2 of 2." in text and 'hx-swap-oob="true"' in text
    assert '<th scope="row" tabindex="-1" autofocus>' in text  # the keyboard stays on the row

    done = client_in.post(reverse("bulk:confirm", args=[session.pk, batch.pk]), {"policy": "all"})
    assert done.status_code == 302 and done["Location"] == reverse(
        "orders:session", args=[session.pk]
    )
    assert OrderLine.objects.filter(session=session).count() == 2
    page = client_in.get(done["Location"]).content.decode()
    assert "2 lines imported: they are being sent to Covage." in page


def test_all_or_none_refusal_is_shown_on_the_preview(client_in, session):
    upload(
        client_in, session, xlsx_bytes([columns.headers(), ["x"] * len(columns.COLUMNS)]), "a.xlsx"
    )
    batch = ImportBatch.objects.get()
    response = client_in.post(
        reverse("bulk:confirm", args=[session.pk, batch.pk]), {"policy": "all"}, follow=True
    )
    assert "Nothing was imported: no row is valid yet." in response.content.decode()
    assert not OrderLine.objects.exists()


def test_the_same_file_twice_is_asked_about(client_in, session):
    content = csv_bytes([row()])
    upload(client_in, session, content)
    first = ImportBatch.objects.get()
    client_in.post(reverse("bulk:confirm", args=[session.pk, first.pk]), {"policy": "all"})
    upload(client_in, session, content)
    second = ImportBatch.objects.exclude(pk=first.pk).get()
    page = client_in.get(reverse("bulk:preview", args=[session.pk, second.pk])).content.decode()
    assert 'id="duplicate-warning"' in page and "Import it again" in page
    refused = client_in.post(
        reverse("bulk:confirm", args=[session.pk, second.pk]), {"policy": "all"}, follow=True
    )
    assert "already imported into this session" in refused.content.decode()
    assert OrderLine.objects.count() == 1
    client_in.post(
        reverse("bulk:confirm", args=[session.pk, second.pk]), {"policy": "all", "again": "on"}
    )
    assert OrderLine.objects.count() == 2


def test_another_users_session_and_batches_answer_404(client, session):
    batch = ImportBatch.objects.create(session=session, owner=session.owner, digest="x")
    client.force_login(sales_user())
    urls = [
        reverse("bulk:upload", args=[session.pk]),
        reverse("bulk:template", args=[session.pk, "csv"]),
        reverse("bulk:export", args=[session.pk, "xlsx"]),
        reverse("bulk:preview", args=[session.pk, batch.pk]),
        reverse("bulk:progress", args=[session.pk, batch.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    posts = [
        reverse("bulk:fix_cell", args=[session.pk, batch.pk, 0]),
        reverse("bulk:confirm", args=[session.pk, batch.pk]),
        reverse("bulk:cancel", args=[session.pk, batch.pk]),
    ]
    for url in posts:
        assert client.post(url, {"policy": "all"}).status_code == 404, url
    # A batch of another session, through one's own session's URL.
    own = create_session(user=sales_user())
    client.force_login(own.owner)
    assert client.get(reverse("bulk:preview", args=[own.pk, batch.pk])).status_code == 404


def test_changes_are_post_only_with_csrf(session):
    batch = ImportBatch.objects.create(
        session=session, owner=session.owner, digest="x", status="ready"
    )
    client = Client(enforce_csrf_checks=True)
    client.force_login(session.owner)
    for name in ("fix_cell", "confirm", "cancel"):
        args = [session.pk, batch.pk, 0] if name == "fix_cell" else [session.pk, batch.pk]
        url = reverse(f"bulk:{name}", args=args)
        assert client.get(url).status_code == 405, name
        assert client.post(url, {"policy": "all"}).status_code == 403, name
    assert client.post(reverse("bulk:upload", args=[session.pk])).status_code == 403
    batch.refresh_from_db()
    assert batch.status == "ready"


def test_unknown_format_is_404(client_in, session):
    assert client_in.get(reverse("bulk:template", args=[session.pk, "pdf"])).status_code == 404


def test_progress_reloads_the_page_once_read(client_in, session):
    batch = ImportBatch.objects.create(
        session=session, owner=session.owner, digest="x", total_rows=10, processed_rows=4
    )
    response = client_in.get(reverse("bulk:progress", args=[session.pk, batch.pk]))
    assert "4 of 10 rows checked." in response.content.decode()
    assert "HX-Refresh" not in response
    page = client_in.get(reverse("orders:session", args=[session.pk])).content.decode()
    assert "Reading" in page and "4 of 10 rows checked." in page
    hint = reverse("bulk:hint", args=[session.pk])
    assert f'hx-get="{hint}"' in page  # polled while the file is read
    ImportBatch.objects.filter(pk=batch.pk).update(processed_rows=8)
    assert "8 of 10 rows checked." in client_in.get(hint).content.decode()
    ImportBatch.objects.filter(pk=batch.pk).update(status="ready")
    response = client_in.get(reverse("bulk:progress", args=[session.pk, batch.pk]))
    assert response["HX-Refresh"] == "true"


def test_cancel_discards_the_preview(client_in, session):
    upload(client_in, session, csv_bytes([row()]))
    batch = ImportBatch.objects.get()
    client_in.post(reverse("bulk:cancel", args=[session.pk, batch.pk]))
    batch.refresh_from_db()
    assert batch.status == "cancelled" and not OrderLine.objects.exists()


def test_a_large_file_is_read_by_a_worker_and_the_preview_waits(client_in, session, settings):
    settings.BULK_IMPORT_BACKGROUND_KB = 0
    response = upload(client_in, session, csv_bytes([row()]))
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.READING  # queued after the commit
    page = client_in.get(response["Location"]).content.decode()
    assert "The sheet is being read and checked" in page
    assert reverse("bulk:progress", args=[session.pk, batch.pk]) in page
    assert reverse("bulk:cancel", args=[session.pk, batch.pk]) in page
