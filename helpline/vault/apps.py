from django.apps import AppConfig
from django.conf import settings


class VaultConfig(AppConfig):
    name = "helpline.vault"
    label = "vault"
    verbose_name = "Vault"

    def ready(self):
        # Also connects the cache reset to setting_changed.
        from helpline.vault.keys import keys_check_for_startup

        if getattr(settings, "PRODUCTION", False):
            # Production must not start without a usable key set: better down than writing
            # records nobody can read, or failing on the first message from a child.
            keys_check_for_startup()
