"""Order sessions and lines: local drafts plus the state mirrored from Covage.

Two kinds of state live side by side and are never mixed:
- `sync_status`, the portal's own lifecycle (draft, syncing, synced, ...);
- `remote_state` and the dates, `state_change` and `termination_error` entries, copied
  verbatim from Covage, which is the source of truth for them.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from orders import events as history


def new_session_external_id() -> str:
    """The portal's id for a session, sent as Covage's external_id so that a session whose
    creation answer was lost can be found again."""
    return f"CP-{timezone.localdate():%Y%m%d}-{secrets.token_hex(3).upper()}"


# Covage states of a session that mean it left the "created" stage (the documented lifecycle).
LOCKED_REMOTE_STATES = frozenset({"in_progress", "completed", "partial", "rejected"})


class SyncStatus(models.TextChoices):
    DRAFT = "draft", "Draft (not sent yet)"
    SYNCING = "syncing", "Sending to Covage"
    SYNCED = "synced", "Saved at Covage"
    SYNC_FAILED = "sync_failed", "Not saved at Covage"
    CONFIRMING = "confirming", "Confirming"
    CONFIRMED = "confirmed", "Confirmed"


class OrderSession(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="order_sessions"
    )
    external_id = models.CharField(
        "External id",
        max_length=64,
        unique=True,
        default=new_session_external_id,
        help_text="Your reference for this order session; sent to Covage as its external id.",
    )
    project_id = models.CharField(
        "Project",
        max_length=64,
        blank=True,
        help_text="The commercial project code agreed with Covage, if any.",
    )
    # Mirrored from Covage.
    covage_id = models.CharField("Covage id", max_length=64, blank=True)
    remote_state = models.CharField("Covage state", max_length=40, blank=True)
    creation_date = models.DateTimeField(null=True, blank=True)
    order_date = models.DateTimeField(null=True, blank=True)
    completion_date = models.DateTimeField(null=True, blank=True)
    cancellation_date = models.DateTimeField(null=True, blank=True)
    # The portal's own lifecycle.
    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, default=SyncStatus.DRAFT
    )
    version = models.PositiveIntegerField(default=1)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # One worker at a time pushes a session to Covage: a lease taken with a conditional UPDATE
    # (works on every database, holds no lock during HTTP calls) and released at the end. A
    # dead worker's lease simply expires.
    sync_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    sync_lease_owner = models.CharField(max_length=32, blank=True, editable=False)
    # Written just before the POST that creates the session at Covage: a later attempt that
    # finds it set looks the session up by external_id before posting again.
    create_attempted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Confirmation bookkeeping (the record of the work to do, written with the status change).
    confirm_requested_at = models.DateTimeField(null=True, blank=True)
    confirm_attempted_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
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
    attention_reason = models.TextField("Needs attention because", blank=True)
    attention_since = models.DateTimeField("Needs attention since", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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


class OrderLine(models.Model):
    session = models.ForeignKey(OrderSession, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=1)

    # --- The 26 request fields of "Creating an Order Line" (contacts are LineContact rows) ---
    # Offer
    product_offering_id = models.CharField("Product offering", max_length=64, blank=True)
    product_offering_qualification_item_id = models.CharField(
        "Eligibility (qualification item)", max_length=64, blank=True
    )
    quote_item_id = models.CharField("Quote item", max_length=64, blank=True)
    offer_family = models.CharField("Offer family", max_length=32, blank=True)
    offer_technology = models.CharField("Offer technology", max_length=32, blank=True)
    option_ids = models.JSONField("Options", default=list, blank=True)
    project_id = models.CharField("Project", max_length=64, blank=True)
    external_id = models.CharField("Line external id", max_length=64, blank=True)
    # Technical
    delivery_mode = models.CharField("Delivery mode", max_length=64, blank=True)
    enni = models.CharField("ENNI", max_length=64, blank=True)
    enni_2 = models.CharField("Second ENNI", max_length=64, blank=True)
    vlan_reference = models.PositiveSmallIntegerField("VLAN", null=True, blank=True)
    additional_vlan_reference = models.CharField("Additional VLAN", max_length=32, blank=True)
    cpe_networking_number = models.CharField("CPE networking number", max_length=64, blank=True)
    cpe_serial_number = models.CharField("CPE serial number", max_length=64, blank=True)
    scheduled_delivery_date = models.DateField("Scheduled delivery date", null=True, blank=True)
    # End customer
    end_customer_name = models.CharField("End customer name", max_length=255, blank=True)
    siret_known = models.BooleanField("SIRET known", null=True, blank=True)
    customer_order_name = models.CharField("Customer order name", max_length=255, blank=True)
    business_code = models.CharField("Business code", max_length=64, blank=True)
    billing_site_ref = models.CharField("Billing site reference", max_length=64, blank=True)
    # Site and notes
    access_instructions = models.TextField("Access instructions", blank=True)
    specific_request = models.TextField("Specific request", blank=True)
    note = models.TextField("Note", blank=True)
    technical_note = models.TextField("Technical note", blank=True)

    # --- Mirrored from Covage ---
    covage_id = models.CharField("Covage line id", max_length=64, blank=True)
    remote_state = models.CharField("Covage state", max_length=40, blank=True)
    temporary_reference = models.CharField(max_length=64, blank=True)
    order_reference = models.CharField(max_length=64, blank=True)
    building_ref = models.CharField(max_length=64, blank=True)
    order_date = models.DateTimeField(null=True, blank=True)
    completion_date = models.DateTimeField(null=True, blank=True)
    cancellation_date = models.DateTimeField(null=True, blank=True)
    cancellation_reason = models.TextField(blank=True)
    remote_payload = models.JSONField(
        "Last payload received", default=dict, blank=True, editable=False
    )
    # Order tracking (phase 2, /api/v1/order/): followed once the line became an order.
    tracking_state = models.CharField("Order state", max_length=40, blank=True)
    tracking_checked_at = models.DateTimeField(null=True, blank=True)

    # --- The portal's own lifecycle ---
    sync_status = models.CharField(
        max_length=20, choices=SyncStatus.choices, default=SyncStatus.DRAFT
    )
    # Bumped by every local save: a sync sends the version it read and only marks the line
    # clean if nobody saved it meanwhile; a form carries it to detect concurrent edits.
    version = models.PositiveIntegerField(default=1)
    synced_version = models.PositiveIntegerField(default=0)
    # As on the session: set before the creating POST, so a retry looks before posting.
    create_attempted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The version Covage refused with field errors: not sent again until the user changes it.
    rejected_version = models.PositiveIntegerField(default=0)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    last_sync_error = models.TextField(blank=True)
    # Field errors Covage returned, keyed by wire field path, to show them on the right step.
    remote_errors = models.JSONField(default=dict, blank=True)
    # A line deleted by the user disappears at once but is kept until Covage confirms the
    # DELETE, so that a failed call can be retried.
    deleted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["session", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["covage_id"], condition=~Q(covage_id=""), name="unique_line_covage_id"
            ),
            models.CheckConstraint(
                condition=Q(vlan_reference__isnull=True)
                | Q(vlan_reference__gte=1, vlan_reference__lte=4094),
                name="line_vlan_in_range",
            ),
        ]
        indexes = [models.Index(fields=["sync_status"]), models.Index(fields=["remote_state"])]

    def __str__(self) -> str:
        return f"{self.session} · line {self.position}"

    @property
    def needs_sync(self) -> bool:
        return self.synced_version < self.version


class LineContact(models.Model):
    """One entry of the line's `related_contact_information` (the first one is required)."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="contacts")
    position = models.PositiveSmallIntegerField(default=0)
    end_customer_name = models.CharField("End customer name", max_length=255, blank=True)
    siret = models.CharField("SIRET number", max_length=14, blank=True)
    contact1_firstname = models.CharField("On-site contact first name", max_length=100, blank=True)
    contact1_lastname = models.CharField("On-site contact last name", max_length=100, blank=True)
    contact1_email_address = models.EmailField("On-site contact e-mail", blank=True)
    contact1_phone_number = models.CharField("On-site contact phone", max_length=20, blank=True)
    contact2_firstname = models.CharField("Second contact first name", max_length=100, blank=True)
    contact2_lastname = models.CharField("Second contact last name", max_length=100, blank=True)
    contact2_email_address = models.EmailField("Second contact e-mail", blank=True)
    contact2_phone_number = models.CharField("Second contact phone", max_length=20, blank=True)
    street_number = models.CharField("Street number", max_length=16, blank=True)
    street_number_extension = models.CharField("Extension", max_length=16, blank=True)
    street_name = models.CharField("Street", max_length=255, blank=True)
    building_name = models.CharField("Building", max_length=255, blank=True)
    level_number = models.CharField("Floor", max_length=16, blank=True)
    postcode = models.CharField("Postcode", max_length=5, blank=True)
    city = models.CharField("City", max_length=255, blank=True)
    insee_code = models.CharField("INSEE code", max_length=5, blank=True)
    latitude = models.FloatField("Latitude", null=True, blank=True)
    longitude = models.FloatField("Longitude", null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["line", "position"]
        constraints = [
            models.UniqueConstraint(fields=["line", "position"], name="unique_contact_position")
        ]

    def __str__(self) -> str:
        return f"{self.end_customer_name or 'Contact'} ({self.position + 1})"


class LineStateChange(models.Model):
    """A `state_change` entry exactly as Covage sent it."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="state_changes")
    state = models.CharField(max_length=40)
    change_date = models.DateTimeField(null=True, blank=True)
    change_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["line", "change_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["line", "state", "change_date"], name="unique_line_state_change"
            )
        ]

    def __str__(self) -> str:
        return f"{self.state} at {self.change_date}"


class LineTerminationError(models.Model):
    """A `termination_error` entry exactly as Covage sent it."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="termination_errors")
    code = models.CharField(max_length=100)
    property_path = models.CharField(max_length=255, blank=True)
    value = models.TextField(blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["line", "pk"]

    def __str__(self) -> str:
        return f"{self.code} on {self.property_path}"


class ProductionStep(models.Model):
    """A step of an order's production, from the tracking API's historic, as received."""

    line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="production_steps")
    code = models.CharField(max_length=100)
    label = models.CharField(max_length=255, blank=True)
    date = models.DateTimeField(null=True, blank=True)
    raw = models.JSONField(default=dict, blank=True)

    class Meta:
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
