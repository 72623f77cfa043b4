from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class LoginUnlock(models.Model):
    """A supervisor let a locked-out colleague in again (``helpline.services.logins.login_unlock``).

    Until ``expires_at`` or the colleague's next successful login, their own user name is not
    held back by a locked address, so they get in from the workstation whose address a flood
    of failures has locked; the limits on their own name start again from zero.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    granted_by = models.ForeignKey("helpline.Staff", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("login unlock")

    def __str__(self):
        return f"Login unlock {self.pk}"
