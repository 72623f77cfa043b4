from django.conf import settings
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class Helpline(models.Model):
    """A line the organisation runs: a child line, a parent line, a prevention line."""

    slug = models.SlugField(_("slug"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    languages = models.JSONField(_("languages"), default=list, help_text=_("Language codes, first is the default."))
    timezone = models.CharField(_("time zone"), max_length=64, default="UTC")
    # {"mon": [["08:00", "20:00"]], ...}; empty means always open (helpline.hours).
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    # [{"from": "2025-12-25", "to": "2025-12-26", "hours": [], "note": "Christmas"}]: closures and special hours.
    opening_exceptions = models.JSONField(_("exceptions to the opening hours"), default=list, blank=True)
    out_of_hours_message = models.TextField(
        _("out-of-hours message"), blank=True, help_text=_("Sent when someone writes outside opening hours.")
    )
    # Auto-replies must be neutral: someone else may be holding the phone.
    busy_message = models.TextField(
        _("waiting message"), blank=True, help_text=_("Sent when a new conversation joins the queue.")
    )
    blocked_message = models.TextField(
        _("blocked sender message"), blank=True, help_text=_("Sent once to a blocked sender.")
    )
    # {"en": ["suicide", "kill myself", "he is here now"], "sw": [...]}: raise priority, a person confirms.
    risk_phrases = models.JSONField(_("risk phrases"), default=dict, blank=True)
    wait_alert_seconds = models.PositiveIntegerField(
        _("wait alert"), default=180, help_text=_("Supervisors are alerted when someone waits longer (seconds).")
    )
    # Seconds a child may wait for a counsellor's reply before the console shows it amber, then red;
    # supervisors are alerted at red.
    reply_amber_seconds = models.PositiveIntegerField(
        _("reply wait: amber after"),
        default=120,
        help_text=_("Seconds a child waits for a reply before it shows amber."),
    )
    reply_red_seconds = models.PositiveIntegerField(
        _("reply wait: red after"),
        default=300,
        help_text=_("Seconds a child waits for a reply before it shows red and supervisors are alerted."),
    )
    # {"en": "Do not pay ...", "fr": ...}: offered to the counsellor, sent only when they click.
    safety_message = models.JSONField(_("sextortion safety message"), default=dict, blank=True)
    # Shown to a child in the web chat ("In danger now? Call 116."); a short number, not a sentence.
    emergency_number = models.CharField(
        _("emergency number"),
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^[0-9+ ()-]*$", _("Only digits, spaces, +, - and brackets."))],
        help_text=_("The number the web chat tells a child in danger to call, for example 116 or 112."),
    )
    # Where quick exit sends the child: somewhere ordinary to be seen on the screen. Empty: a weather search.
    quick_exit_url = models.URLField(
        _("quick exit address"),
        blank=True,
        validators=[URLValidator(schemes=["https"])],
        help_text=_("An ordinary https address the web chat's quick exit opens instead of the chat."),
    )
    chat_display_name = models.CharField(
        _("name in the chat header"),
        max_length=60,
        blank=True,
        help_text=_("A neutral name for the web chat's header, so someone glancing at the phone learns nothing."),
    )
    # [{"id": "helped", "text": {"en": "Did this conversation help you?"}, "choices": ["yes", "a little", "no"]}]
    survey = models.JSONField(_("post-contact survey"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("helpline")

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    COUNSELLOR = "counsellor", _("Counsellor")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    AUTHORITY = "authority", _("Authority")


class Presence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class Staff(models.Model):
    """The helpline profile of a user: what they do, where, in which languages, how much at once."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    lines = models.ManyToManyField(Helpline, related_name="staff", blank=True, verbose_name=_("lines"))
    team = models.CharField(_("team"), max_length=80, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=3, help_text=_("How many conversations at once.")
    )
    presence = models.CharField(_("presence"), max_length=16, choices=Presence.choices, default=Presence.OFFLINE)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="staff_role_known"),
        ]

    def __str__(self):
        return f"{self.user.get_username()} ({self.get_role_display()})"
