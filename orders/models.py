"""Order sessions and lines: local drafts plus the state mirrored from Covage.

Two kinds of state live side by side and are never mixed:
- `sync_status`, the portal's own lifecycle (draft, syncing, synced, ...);
- `remote_state` and the dates, `state_change` and `termination_error` entries, copied
  verbatim from Covage, which is the source of truth for them.

The fields people fill on a line (OrderLine and its LineContact entries) are declared here
once: their label (verbose_name), help text, length and format checks. The step forms, the
confirmation check, the history and Covage's error explanations all read these declarations
through orders/catalogue.py.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from orders import events as history
from orders import validators


def new_session_external_id() -> str:
    """The portal's id for a session, sent as Covage's external_id so that a session whose
    creation answer was lost can be found again."""
    return f"CP-{timezone.localdate():%Y%m%d}-{secrets.token_hex(3).upper()}"


# Covage states of a session that mean it left the "created" stage (the documented lifecycle).
LOCKED_REMOTE_STATES = frozenset({"in_progress", "completed", "partial", "rejected"})


class SyncStatus(models.TextChoices):
    DRAFT = "draft", _("Draft (not sent yet)")
    SYNCING = "syncing", _("Sending to Covage")
    SYNCED = "synced", _("Saved at Covage")
    SYNC_FAILED = "sync_failed", _("Not saved at Covage")
    CONFIRMING = "confirming", _("Confirming")
    CONFIRMED = "confirmed", _("Confirmed")


class OrderSession(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="order_sessions",
        verbose_name=_("owner"),
    )
    external_id = models.CharField(
        _("External id"),
        max_length=64,
        unique=True,
        default=new_session_external_id,
        help_text=_("Your reference for this order session; sent to Covage as its external id."),
    )
    project_id = models.CharField(
        _("Project"),
        max_length=64,
        blank=True,
        help_text=_("The commercial project code agreed with Covage, if any."),
    )
    # Mirrored from Covage.
    covage_id = models.CharField(_("Covage id"), max_length=64, blank=True)
    remote_state = models.CharField(_("Covage state"), max_length=40, blank=True)
    creation_date = models.DateTimeField(_("created at Covage"), null=True, blank=True)
    order_date = models.DateTimeField(_("order date"), null=True, blank=True)
    completion_date = models.DateTimeField(_("completion date"), null=True, blank=True)
    cancellation_date = models.DateTimeField(_("cancellation date"), null=True, blank=True)
    # The portal's own lifecycle.
    sync_status = models.CharField(
        _("sync status"), max_length=20, choices=SyncStatus.choices, default=SyncStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    # One worker at a time pushes a session to Covage: a lease taken with a conditional UPDATE
    # (works on every database, holds no lock during HTTP calls) and released at the end. A
    # dead worker's lease simply expires.
    sync_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    sync_lease_owner = models.CharField(max_length=32, blank=True, editable=False)
    # Written just before the POST that creates the session at Covage: a later attempt that
    # finds it set looks the session up by external_id before posting again.
    create_attempted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Confirmation bookkeeping (the record of the work to do, written with the status change).
    confirm_requested_at = models.DateTimeField(
        _("confirmation requested at"), null=True, blank=True
    )
    confirm_attempted_at = models.DateTimeField(_("confirmation sent at"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    poll_count = models.PositiveIntegerField(default=0)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    # An outcome the look-ups could not settle (a lost answer to a creating POST or to the
    # confirmation, states to read back) waits for a CSV export started after this moment:
    # the export is the documented record of every session and line.
    settle_after = models.DateTimeField(null=True, blank=True, editable=False)
    # When Covage's states of this session and its lines were last read (an answer, or the
    # moment an export's snapshot began): an older snapshot never overwrites a newer read.
    remote_read_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when automatic work stopped past its bound: the reason in words, for the back
    # office, which resolves it with an admin action. The sweeper leaves such sessions alone.
    # Times the sweeper re-queued work that had stopped (reset when a sync completes): past
    # its bound the session needs attention instead of being retried for ever.
    automatic_retries = models.PositiveSmallIntegerField(default=0, editable=False)
    # The user's last "Retry": a second click within RETRY_DEBOUNCE queues nothing more.
    retry_requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The session whose rejected lines this one copies: one copy per session, however many
    # clicks (a second click opens the first copy).
    copied_from = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="rejected_copy",
        editable=False,
    )
    attention_reason = models.TextField(_("Needs attention because"), blank=True)
    attention_since = models.DateTimeField(_("Needs attention since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "sync_lease_until",
            "sync_lease_owner",
            "next_poll_at",
            "poll_count",
            "settle_after",
            "remote_read_at",
            "automatic_retries",
            "retry_requested_at",
        ]
    )

    class Meta:
        verbose_name = _("order session")
        verbose_name_plural = _("order sessions")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["covage_id"], condition=~Q(covage_id=""), name="unique_session_covage_id"
            )
        ]
        indexes = [models.Index(fields=["sync_status"]), models.Index(fields=["remote_state"])]

    def __str__(self) -> str:
        return self.external_id

    @property
    def needs_attention(self) -> bool:
        return self.attention_since is not None

    @property
    def is_locked(self) -> bool:
        """Lines are read-only once the session is being confirmed or Covage has taken it
        over (confirmed from elsewhere, too)."""
        return (
            self.sync_status in (SyncStatus.CONFIRMING, SyncStatus.CONFIRMED)
            or self.confirm_requested_at is not None
            or self.remote_state in LOCKED_REMOTE_STATES
        )


# Shared by the line and its contact entry, which both carry the end customer's name.
END_CUSTOMER_NAME = _("End customer name")
END_CUSTOMER_NAME_HELP = _("The company or person the line is for. Needed to confirm.")


class OrderLine(models.Model):
    session = models.ForeignKey(
        OrderSession, on_delete=models.CASCADE, related_name="lines", verbose_name=_("session")
    )
    position = models.PositiveIntegerField(_("position"), default=1)

    # --- The request fields of "Creating an Order Line" (contacts are LineContact rows) ---
    # Which ones go to which endpoint is covage.schemas.LinePayload's declaration.
    # Offer
    product_offering_id = models.CharField(
        _("Product offering identifier"),
        max_length=64,
        blank=True,
        help_text=_("From the eligibility result, for example 2173. Needed to confirm."),
    )
    product_offering_qualification_item_id = models.CharField(
        _("Eligibility (qualification item) identifier"),
        max_length=64,
        blank=True,
        help_text=_(
            "The qualification item id of the eligibility result that this line orders. "
            "Needed to confirm."
        ),
    )
    quote_item_id = models.CharField(
        _("Quote item identifier"),
        max_length=64,
        blank=True,
        help_text=_("Only for an offer priced on quote: the id of the accepted quote line."),
    )
    offer_family = models.CharField(
        _("Offer family"),
        max_length=32,
        blank=True,
        help_text=_("DIA: Covage chooses the ENNI itself."),
    )
    offer_technology = models.CharField(
        _("Offer technology"),
        max_length=32,
        blank=True,
        help_text=_("As the eligibility result gives it, for example FIBDE."),
    )
    option_ids = models.JSONField(
        _("Options"),
        default=list,
        blank=True,
        help_text=_("Option 7021: Covage supplies the CPE (router) on site."),
    )
    project_id = models.CharField(
        _("Project"),
        max_length=64,
        blank=True,
        help_text=_("The commercial project agreed with Covage, if the line belongs to one."),
    )
    external_id = models.CharField(
        _("Your line reference"),
        max_length=64,
        blank=True,
        help_text=_(
            "Optional: your own reference, to find the line later. Left empty, the portal "
            "numbers the line."
        ),
    )
    # Technical
    delivery_mode = models.CharField(
        _("Delivery mode"),
        max_length=64,
        blank=True,
        help_text=_("How the line is handed over to you; it narrows the list of ENNIs."),
    )
    enni = models.CharField(
        _("ENNI (collection port)"),
        max_length=64,
        blank=True,
        help_text=_(
            "The collection port where Covage hands the line over to your network. "
            "Needed to confirm (except for DIA)."
        ),
    )
    enni_2 = models.CharField(
        _("Second ENNI (collection port)"),
        max_length=64,
        blank=True,
        help_text=_("Only for a line delivered on two ports."),
    )
    vlan_reference = models.PositiveSmallIntegerField(
        _("VLAN"),
        null=True,
        blank=True,
        help_text=_("A number from 1 to 4094."),
        validators=[validators.validate_vlan],
        error_messages={"invalid": _("Enter the VLAN as a whole number from 1 to 4094.")},
    )
    additional_vlan_reference = models.CharField(
        _("Additional VLAN"),
        max_length=32,
        blank=True,
        help_text=_("Only if the offer uses a second VLAN."),
    )
    cpe_networking_number = models.CharField(
        _("CPE networking number"),
        max_length=64,
        blank=True,
        help_text=_("Needed with option 7021, for example NET-123456."),
    )
    cpe_serial_number = models.CharField(
        _("CPE serial number"),
        max_length=64,
        blank=True,
        help_text=_("Needed with option 7021, for example SR-123456."),
    )
    scheduled_delivery_date = models.DateField(
        _("Scheduled delivery date"),
        null=True,
        blank=True,
        help_text=_("Today or later. Leave empty for the earliest possible date."),
        validators=[validators.validate_not_in_past],
    )
    # End customer
    end_customer_name = models.CharField(
        END_CUSTOMER_NAME, max_length=255, blank=True, help_text=END_CUSTOMER_NAME_HELP
    )
    siret_known = models.BooleanField(
        _("SIRET known"),
        null=True,
        blank=True,
        help_text=_("Tick if the end customer has a SIRET number: it is then needed to confirm."),
    )
    customer_order_name = models.CharField(
        _("Customer order name"),
        max_length=255,
        blank=True,
        help_text=_("The name of the order on your side (your order form, say)."),
    )
    business_code = models.CharField(
        _("Business code"),
        max_length=64,
        blank=True,
        help_text=_("Your business code for this order, if you use one."),
    )
    billing_site_ref = models.CharField(
        _("Billing site reference"),
        max_length=64,
        blank=True,
        help_text=_("Your reference of the site to bill, if you use one."),
    )
    # Site and notes
    access_instructions = models.TextField(
        _("Access instructions"),
        blank=True,
        help_text=_("How the technician gets in: entrance, door code, keys, opening hours."),
    )
    specific_request = models.TextField(
        _("Specific request"),
        blank=True,
        help_text=_("Anything unusual Covage must know about this site."),
    )
    note = models.TextField(_("Note"), blank=True, help_text=_("Sent to Covage with the line."))
    technical_note = models.TextField(
        _("Technical note"), blank=True, help_text=_("Technical details for Covage's teams.")
    )

    # --- Mirrored from Covage ---
    covage_id = models.CharField(_("Covage line id"), max_length=64, blank=True)
    remote_state = models.CharField(_("Covage state"), max_length=40, blank=True)
    temporary_reference = models.CharField(_("temporary reference"), max_length=64, blank=True)
    order_reference = models.CharField(_("order reference"), max_length=64, blank=True)
    building_ref = models.CharField(_("building reference"), max_length=64, blank=True)
    order_date = models.DateTimeField(_("order date"), null=True, blank=True)
    completion_date = models.DateTimeField(_("completion date"), null=True, blank=True)
    cancellation_date = models.DateTimeField(_("cancellation date"), null=True, blank=True)
    cancellation_reason = models.TextField(_("cancellation reason"), blank=True)
    remote_payload = models.JSONField(
        _("Last payload received"), default=dict, blank=True, editable=False
    )
    # Order tracking (phase 2, /api/v1/order/): followed once the line became an order.
    tracking_state = models.CharField(_("Order state"), max_length=40, blank=True)
    tracking_checked_at = models.DateTimeField(_("order state read at"), null=True, blank=True)
    # From the tracked order (issue 14): its commitment (months) and when it was delivered
    # (Covage's completion date of the order, else the moment the portal first read `active`).
    commitment = models.CharField(_("Commitment"), max_length=32, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    # --- The portal's own lifecycle ---
    sync_status = models.CharField(
        _("sync status"), max_length=20, choices=SyncStatus.choices, default=SyncStatus.DRAFT
    )
    # Bumped by every local save: a sync sends the version it read and only marks the line
    # clean if nobody saved it meanwhile; a form carries it to detect concurrent edits.
    version = models.PositiveIntegerField(_("version"), default=1)
    synced_version = models.PositiveIntegerField(_("version saved at Covage"), default=0)
    # As on the session: set before the creating POST, so a retry looks before posting.
    create_attempted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The version Covage refused with field errors: not sent again until the user changes it.
    rejected_version = models.PositiveIntegerField(_("version refused by Covage"), default=0)
    last_synced_at = models.DateTimeField(_("last synced at"), null=True, blank=True)
    last_sync_error = models.TextField(_("last sync error"), blank=True)
    # Field errors Covage returned, keyed by wire field path, to show them on the right step.
    remote_errors = models.JSONField(_("errors returned by Covage"), default=dict, blank=True)
    # A line deleted by the user disappears at once but is kept until Covage confirms the
    # DELETE, so that a failed call can be retried.
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    if TYPE_CHECKING:
        # Added by HistoricalRecords: how the services store Covage's answers (orders.wire).
        def save_without_historical_record(self, *args: Any, **kwargs: Any) -> None: ...

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["session", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["covage_id"], condition=~Q(covage_id=""), name="unique_line_covage_id"
            ),
            models.CheckConstraint(
                condition=Q(vlan_reference__isnull=True)
                | Q(
                    vlan_reference__gte=validators.VLAN_MIN, vlan_reference__lte=validators.VLAN_MAX
                ),
                name="line_vlan_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["sync_status"]),
            models.Index(fields=["remote_state"]),
            # The dashboard's "in production" and "delivered this month" (issue 14).
            models.Index(fields=["tracking_state", "delivered_at"], name="line_tracking_idx"),
        ]

    def __str__(self) -> str:
        return gettext("%(session)s · line %(position)s") % {
            "session": self.session,
            "position": self.position,
        }

    @property
    def needs_sync(self) -> bool:
        return self.synced_version < self.version


# The two contacts of an entry differ by their first words only.
ON_SITE_PHONE_HELP = _("A French number, for example 06 12 34 56 78.")
SECOND_PHONE_HELP = _("A French number, for example 01 23 45 67 89.")
EMAIL_INVALID = _("Enter an e-mail address, for example jean@example.fr.")
DEGREES_INVALID = _("Enter decimal degrees, for example 49.4744077.")


class LineContact(models.Model):
    """One entry of the line's `related_contact_information` (the first one is required)."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("line")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    end_customer_name = models.CharField(
        END_CUSTOMER_NAME, max_length=255, blank=True, help_text=END_CUSTOMER_NAME_HELP
    )
    siret = models.CharField(
        _("SIRET number"),
        max_length=14,
        blank=True,
        help_text=_("14 digits: the 9-digit SIREN, then the 5-digit establishment number."),
        validators=[validators.validate_siret],
    )
    contact1_firstname = models.CharField(
        _("On-site contact first name"), max_length=100, blank=True
    )
    contact1_lastname = models.CharField(_("On-site contact last name"), max_length=100, blank=True)
    contact1_email_address = models.EmailField(
        _("On-site contact e-mail"), blank=True, error_messages={"invalid": EMAIL_INVALID}
    )
    contact1_phone_number = models.CharField(
        _("On-site contact phone"),
        max_length=20,
        blank=True,
        help_text=ON_SITE_PHONE_HELP,
        validators=[validators.validate_phone_number],
    )
    contact2_firstname = models.CharField(
        _("Second contact first name"), max_length=100, blank=True
    )
    contact2_lastname = models.CharField(_("Second contact last name"), max_length=100, blank=True)
    contact2_email_address = models.EmailField(
        _("Second contact e-mail"), blank=True, error_messages={"invalid": EMAIL_INVALID}
    )
    contact2_phone_number = models.CharField(
        _("Second contact phone"),
        max_length=20,
        blank=True,
        help_text=SECOND_PHONE_HELP,
        validators=[validators.validate_phone_number],
    )
    street_number = models.CharField(_("Street number"), max_length=16, blank=True)
    street_number_extension = models.CharField(
        _("Street number extension"),
        max_length=16,
        blank=True,
        help_text=_("bis, ter, B…: leave empty if none."),
    )
    street_name = models.CharField(_("Street name"), max_length=255, blank=True)
    building_name = models.CharField(_("Building name"), max_length=255, blank=True)
    level_number = models.CharField(_("Floor (level number)"), max_length=16, blank=True)
    postcode = models.CharField(
        _("Postcode"),
        max_length=5,
        blank=True,
        help_text=_("5 digits, for example 76130."),
        validators=[validators.validate_postcode],
    )
    city = models.CharField(_("City"), max_length=255, blank=True)
    insee_code = models.CharField(
        _("INSEE code"),
        max_length=5,
        blank=True,
        help_text=_(
            "The commune's INSEE code, which is not its postcode: Mont-Saint-Aignan is 76451 "
            "(postcode 76130). Corsica uses 2A/2B, overseas 971 to 989."
        ),
        validators=[validators.validate_insee_code],
    )
    latitude = models.FloatField(
        _("Latitude"),
        null=True,
        blank=True,
        help_text=_("Decimal degrees, for example 49.4744077 (optional)."),
        validators=[validators.validate_latitude],
        error_messages={"invalid": DEGREES_INVALID},
    )
    longitude = models.FloatField(
        _("Longitude"),
        null=True,
        blank=True,
        help_text=_("Decimal degrees, for example 1.091455 (optional)."),
        validators=[validators.validate_longitude],
        error_messages={"invalid": DEGREES_INVALID},
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact entry")
        verbose_name_plural = _("contact entries")
        ordering = ["line", "position"]
        constraints = [
            models.UniqueConstraint(fields=["line", "position"], name="unique_contact_position")
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (%(number)s)") % {
            "name": self.end_customer_name or gettext("Contact"),
            "number": self.position + 1,
        }


class LineStateChange(models.Model):
    """A `state_change` entry exactly as Covage sent it."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="state_changes", verbose_name=_("line")
    )
    state = models.CharField(_("state"), max_length=40)
    change_date = models.DateTimeField(_("changed at"), null=True, blank=True)
    change_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["line", "change_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "state", "change_date"], name="unique_line_state_change"
            )
        ]

    def __str__(self) -> str:
        return gettext("%(state)s at %(date)s") % {"state": self.state, "date": self.change_date}


class LineTerminationError(models.Model):
    """A `termination_error` entry exactly as Covage sent it."""

    line = models.ForeignKey(
        OrderLine,
        on_delete=models.CASCADE,
        related_name="termination_errors",
        verbose_name=_("line"),
    )
    code = models.CharField(_("code"), max_length=100)
    property_path = models.CharField(_("field path"), max_length=255, blank=True)
    value = models.TextField(_("value"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)

    class Meta:
        verbose_name = _("termination error")
        verbose_name_plural = _("termination errors")
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return gettext("%(code)s on %(path)s") % {"code": self.code, "path": self.property_path}


class ProductionStep(models.Model):
    """A step of an order's production, from the tracking API's historic, as received."""

    line = models.ForeignKey(
        OrderLine,
        on_delete=models.CASCADE,
        related_name="production_steps",
        verbose_name=_("line"),
    )
    code = models.CharField(_("code"), max_length=100)
    label = models.CharField(_("label"), max_length=255, blank=True)
    date = models.DateTimeField(_("date"), null=True, blank=True)
    raw = models.JSONField(_("as received"), default=dict, blank=True)

    class Meta:
        verbose_name = _("production step")
        verbose_name_plural = _("production steps")
        ordering = ["line", "date", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["line", "code", "date"], name="unique_production_step")
        ]

    def __str__(self) -> str:
        return self.label or self.code


class OrderEvent(models.Model):
    """Who did what and when: users, the sync and the background tasks.

    Written in whatever language is active where it happens, read in the reader's: `message`
    is an English msgid and `message_params` its values, put together when shown
    (`message_text`); `action_text` names the action (orders.events)."""

    class Actor(models.TextChoices):
        USER = "user", _("User")
        SYNC = "sync", _("Sync with Covage")
        TASK = "task", _("Background task")

    session = models.ForeignKey(
        OrderSession, on_delete=models.CASCADE, related_name="events", verbose_name=_("session")
    )
    line = models.ForeignKey(
        OrderLine,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("line"),
    )
    actor = models.CharField(_("actor"), max_length=10, choices=Actor.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("user"),
    )
    action = models.CharField(_("action"), max_length=64)
    message = models.TextField(_("message"), blank=True)
    message_params = models.JSONField(_("message parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("history event")
        verbose_name_plural = _("history events")

    def __str__(self) -> str:
        return f"{self.action_text} ({self.get_actor_display()})"

    @property
    def action_text(self) -> str:
        return history.action_label(self.action)

    @property
    def message_text(self) -> str:
        return history.message_text(self.message, self.message_params)


class ReferentialSnapshot(models.Model):
    """The last copy of one of Covage's lists that the forms offer (projects, ENNIs), read by
    a background task (orders.services.referentials). Pages read it, never Covage."""

    class Name(models.TextChoices):
        PROJECTS = "projects", _("Projects")
        ENNIS = "ennis", _("ENNIs")

    name = models.CharField(_("list"), max_length=20, choices=Name.choices, unique=True)
    items = models.JSONField(_("items"), default=list, blank=True)
    # The last successful read; null until the first one (the forms then take typed values).
    refreshed_at = models.DateTimeField(_("refreshed at"), null=True, blank=True)
    checked_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    # Why the last attempt failed; empty when it succeeded.
    error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("Covage list")
        verbose_name_plural = _("Covage lists")

    def __str__(self) -> str:
        return str(self.get_name_display())
