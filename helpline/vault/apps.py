from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "helpline.vault"
    label = "vault"
    verbose_name = "Vault"
