"""The platform's admin site: for verified administrators, in the words of a helpline manager.

``helpline.apps.HelplineAdminConfig`` makes it Django's default site, so every app's
``admin.py`` registers with it as usual. It differs from Django's own in three ways:

- it answers only active administrators who passed the second factor (the
  middleware already sends unverified users to 2FA; this closes the admin's own
  permission check too, so a misordered middleware cannot open it);
- its index groups the pages a manager works with (lines, people, the audit
  trail) before anything an app adds; internal tables are not registered at all
  (helpline.admin.internal);
- changing one's own password goes through the audited service.
"""

from django.contrib import admin
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from helpline.services.staff import user_password_change

# The index's sections, in order: (title, ["app_label.model_name", ...]). Models of
# other apps follow in their own sections.
SECTIONS = [
    (_("Lines"), ["helpline.helpline", "helpline.channelendpoint", "helpline.cannedresponse"]),
    (_("People"), ["helpline.staff", "auth.user"]),
]


class OwnPasswordChangeForm(PasswordChangeForm):
    """Django's form (old password, new password twice), saved through user_password_change."""

    def save(self, commit=True):
        user_password_change(
            user=self.user,
            old_password=self.cleaned_data["old_password"],
            new_password=self.cleaned_data["new_password1"],
        )
        return self.user


class HelplineAdminSite(admin.AdminSite):
    site_header = _("Helpline administration")
    site_title = _("Helpline administration")
    index_title = _("Configure the helpline")
    enable_nav_sidebar = True

    def has_permission(self, request):
        user = request.user
        return user.is_active and user.is_staff and user.is_verified()

    def password_change(self, request, extra_context=None):
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=OwnPasswordChangeForm,
            success_url=reverse("admin:password_change_done", current_app=self.name),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def get_app_list(self, request, app_label=None):
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        by_key = {
            f"{app['app_label']}.{model['object_name'].lower()}": (app, model)
            for app in apps
            for model in app["models"]
        }
        sections, placed = [], set()
        for title, keys in SECTIONS:
            found = [by_key[key] for key in keys if key in by_key]
            if not found:
                continue
            placed.update(key for key in keys if key in by_key)
            first_app, first_model = found[0]
            sections.append(
                {
                    **first_app,
                    "name": title,
                    "app_url": first_model.get("admin_url") or first_app["app_url"],
                    "models": [model for _app, model in found],
                }
            )
        for app in apps:
            rest = [m for m in app["models"] if f"{app['app_label']}.{m['object_name'].lower()}" not in placed]
            if rest:
                sections.append({**app, "models": rest})
        return sections
