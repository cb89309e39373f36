"""Checking, fixing and importing rows through the services (no Covage call: the sync is
only queued after the commit)."""

from __future__ import annotations

import pytest
from bulk_data import csv_bytes, row, table, xlsx_bytes
from django.utils import translation
from factories import sales_user

from bulk import columns, selectors, services, sheets
from bulk.models import ImportBatch
from orders import dispatch
from orders.models import OrderLine
from orders.services import create_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    return create_session(user=sales_user(), external_id="IMP-1")


def start(session, content, name="lines.csv"):
    return services.start_import(
        user=session.owner, session=session, file_name=name, content=content
    )


def test_a_valid_row_passes_the_step_forms_and_the_confirmation_check(session):
    check = services.check_row(session, row())
    assert check.errors == {}
    assert check.contact_data["contact1_phone_number"] == "+33123456789"
    assert check.line_data["siret_known"] is True
    assert check.line_data["vlan_reference"] == 1257


def test_each_problem_is_on_its_field(session):
    errors = services.check_row(
        session,
        row(
            postcode="7613",
            vlan_reference="5000",
            siret_known="maybe",
            contact1_email_address="",
            cpe_serial_number="SR-1",
        ),
    ).errors
    assert errors["postcode"] == ["Enter a French postcode of 5 digits, for example 76130."]
    assert "between 1 and 4094" in errors["vlan_reference"][0]
    assert errors["siret_known"] == ["Enter yes or no (or leave it empty)."]
    assert errors["contact1_email_address"] == ["Required to confirm."]
    assert "7021" in errors["cpe_serial_number"][0]


@pytest.mark.parametrize("start_char", ["=", "+", "-", "@"])
def test_a_free_text_cell_that_looks_like_a_formula_is_refused(session, start_char):
    errors = services.check_row(session, row(note=f"{start_char}HYPERLINK(1)")).errors
    assert errors["note"] == [
        f"A value cannot begin with “{start_char}”: a spreadsheet would take it for a "
        "formula. Type the value itself."
    ]


def test_fields_whose_format_allows_the_start_are_exempt(session):
    check = services.check_row(
        session,
        row(contact1_phone_number="+33 6 12 34 56 78", longitude="-1.5", latitude="-0.5"),
    )
    assert check.errors == {}
    assert check.contact_data["longitude"] == -1.5
    # Exempt from "+" only: a phone cell may not start with "=".
    assert (
        "contact1_phone_number"
        in services.check_row(session, row(contact1_phone_number="=0612345678")).errors
    )


@pytest.mark.parametrize("language", ["en", "fr"])
def test_headers_in_either_language_or_by_field_name(session, language):
    batch = start(session, csv_bytes([row(), row(postcode="7613")], language=language))
    assert batch.status == ImportBatch.Status.READY
    assert batch.total_rows == 2 and batch.valid_rows == 1
    assert batch.sheet_rows.get(index=1).errors["postcode"]
    assert batch.missing_columns == [] and batch.unknown_columns == []

    by_name = [list(columns.COLUMNS), *table([row()])[1:]]
    batch = start(session, xlsx_bytes(by_name), "by-name.xlsx")
    assert batch.valid_rows == 1


def test_french_headers_spelt_loosely_and_unknown_and_missing_columns(session):
    content = "code insee;COMMUNE;Code postal;Couleur préférée\n76451;Rouen;76130;bleu\n"
    batch = start(session, content.encode("cp1252"))
    assert batch.status == ImportBatch.Status.READY
    assert batch.unknown_columns == ["Couleur préférée"]
    assert "street_name" in batch.missing_columns
    assert batch.sheet_rows.get().values["insee_code"] == "76451"
    assert batch.sheet_rows.get().values["city"] == "Rouen"


def test_a_file_without_any_known_column_fails_with_a_message(session):
    batch = start(session, b"a,b\n1,2\n")
    assert batch.status == ImportBatch.Status.FAILED
    assert "None of the first row's headings" in batch.error


def test_formula_cells_of_a_workbook_are_refused(session):
    rows = table([row()])
    rows[1][columns.COLUMNS.index("city")] = "=CONCAT(A1,B1)"
    batch = start(session, xlsx_bytes(rows), "lines.xlsx")
    assert batch.sheet_rows.get().errors["city"][0].startswith("A value cannot begin with “=”")


def test_the_templates_example_row_is_left_out(session):
    content = selectors.template_file(sheets.XLSX)
    batch = start(session, content, "template.xlsx")
    assert batch.status == ImportBatch.Status.FAILED
    assert "no rows below its header" in batch.error


def test_fixing_a_cell_checks_its_row_again(session):
    batch = start(session, csv_bytes([row(postcode="7613")]))
    assert batch.valid_rows == 0
    fixed = services.fix_cell(batch=batch, index=0, name="postcode", value="76130")
    assert fixed.errors == {} and fixed.valid
    batch.refresh_from_db()
    assert batch.valid_rows == 1 and batch.sheet_rows.get().values["postcode"] == "76130"
    assert not OrderLine.objects.exists()  # nothing saved before the import


def test_all_or_none_creates_nothing_while_a_row_has_a_problem(session):
    batch = start(session, csv_bytes([row(), row(postcode="7613")]))
    with pytest.raises(services.ImportRefused, match="1 row has a problem"):
        services.import_rows(user=session.owner, batch=batch, policy=ImportBatch.Policy.ALL_OR_NONE)
    assert not OrderLine.objects.exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.READY


def test_valid_only_creates_the_valid_rows_through_the_drafts_service(
    session, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(dispatch, "enqueue_sync", queued.append)
    batch = start(session, csv_bytes([row(), row(postcode="7613"), row(city="Évreux")]))
    result = services.import_rows(
        user=session.owner, batch=batch, policy=ImportBatch.Policy.VALID_ONLY
    )
    assert len(result.created) == 2 and result.left_out == 1
    lines = list(OrderLine.objects.filter(session=session).order_by("position"))
    assert [line.position for line in lines] == [1, 2]
    assert lines[1].contacts.get().city == "Évreux"
    assert lines[0].external_id == f"IMP-1-L{lines[0].pk}"
    assert lines[0].sync_status == "syncing"
    assert queued == [session.pk]  # one sync for every line
    assert session.events.filter(action="line_saved").count() == 2
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.IMPORTED and batch.imported_lines == 2
    with pytest.raises(services.ImportRefused, match="already carried out"):
        services.import_rows(user=session.owner, batch=batch, policy="valid")


def test_the_same_file_twice_is_detected_and_asked_about(session):
    content = csv_bytes([row()])
    first = start(session, content)
    services.import_rows(user=session.owner, batch=first, policy="all")
    second = start(session, content)
    assert services.earlier_import(second) == first
    with pytest.raises(services.DuplicateImport, match="already imported into this session"):
        services.import_rows(user=session.owner, batch=second, policy="all")
    services.import_rows(user=session.owner, batch=second, policy="all", again=True)
    assert OrderLine.objects.filter(session=session).count() == 2
    # Another session may import it.
    other = create_session(user=session.owner)
    assert services.earlier_import(start(other, content)) is None


@pytest.mark.parametrize("fmt", [sheets.CSV, sheets.XLSX])
@pytest.mark.parametrize("language", ["en", "fr"])
def test_a_sessions_lines_round_trip_through_the_sheet(session, fmt, language):
    rows = [
        row(
            option_ids="7010, 7033",
            end_customer_name="Crêperie « Ça Déménage »",
            street_name="Rue Andreï Sakharov",
            note="Livraison à l'accueil\nmerci !",
            contact2_phone_number="06 12 34 56 78",
            longitude="-1.5",
        ),
        row(offer_family="DIA", enni="", siret_known="no", siret="", city="Œuilly"),
    ]
    batch = start(session, csv_bytes(rows))
    services.import_rows(user=session.owner, batch=batch, policy="all")
    with translation.override(language):
        exported = selectors.export_file(session, fmt)
        copy = create_session(user=session.owner)
        again = start(copy, exported, f"lines.{fmt}")
    assert again.status == ImportBatch.Status.READY and again.valid_rows == 2
    services.import_rows(user=session.owner, batch=again, policy="all")

    def values(target):
        from orders.selectors import first_contact, live_lines

        return [
            {
                name: value
                for name, value in services.line_values(line, first_contact(line)).items()
                if name != "external_id"
            }
            for line in live_lines(target)
        ]

    assert values(copy) == values(session)
    assert values(copy)[0]["end_customer_name"] == "Crêperie « Ça Déménage »"
    assert values(copy)[0]["option_ids"] == "7010, 7033"


def test_a_large_file_is_read_in_the_background_with_its_progress(
    session, settings, django_capture_on_commit_callbacks
):
    settings.BULK_IMPORT_BACKGROUND_KB = 0
    with django_capture_on_commit_callbacks(execute=True):
        batch = start(session, csv_bytes([row()] * 3))
        assert batch.status == ImportBatch.Status.READING
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.READY
    assert batch.processed_rows == batch.total_rows == 3
    assert batch.content is None


def test_a_dia_line_with_an_enni_is_told_so(session):
    errors = services.check_row(
        session, row(offer_family="DIA", enni="CN012345", enni_2="CN012346")
    ).errors
    assert errors["enni"] == ["Leave the ENNI empty for the DIA offer: Covage sets it."]
    assert errors["enni_2"] == ["Leave the second ENNI empty for the DIA offer: Covage sets it."]


def test_a_session_being_confirmed_takes_no_import(session):
    from django.utils import timezone

    session.confirm_requested_at = timezone.now()
    session.save()
    with pytest.raises(services.OrderError):
        start(session, csv_bytes([row()]))
    assert not ImportBatch.objects.exists()


def test_numbers_dates_and_booleans_of_a_workbook_read_as_typed(session):
    import datetime as dt

    values = table([row()])
    cells: list[object] = list(values[1])
    cells[columns.COLUMNS.index("postcode")] = 1000  # Excel dropped the leading zero
    cells[columns.COLUMNS.index("vlan_reference")] = 1257.0
    cells[columns.COLUMNS.index("siret_known")] = True
    cells[columns.COLUMNS.index("latitude")] = 45.5
    when = dt.date.today() + dt.timedelta(days=10)
    cells[columns.COLUMNS.index("scheduled_delivery_date")] = dt.datetime.combine(when, dt.time())
    batch = start(session, xlsx_bytes([values[0], cells]), "typed.xlsx")
    read = batch.sheet_rows.get().values
    assert read["postcode"] == "01000"
    assert read["vlan_reference"] == "1257"
    assert read["siret_known"] == "yes"
    assert read["latitude"] == "45.5"
    assert read["scheduled_delivery_date"] == when.isoformat()
