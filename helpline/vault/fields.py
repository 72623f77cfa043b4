"""Model fields for protected content.

``EncryptedTextField`` stores a vault envelope in a binary column. Its model
attribute only ever holds ``None`` or a ``Sealed`` value: assigning a ``str``
(or raw bytes) raises, and so does saving or filtering with one, so plaintext
cannot reach the database by accident. Write with ``seal()``, read with
``unseal()`` (helpline.vault.services).

The field needs to know, before the row is inserted, which record it belongs
to (the primary key is in the associated data) and where its data key is
(``data_key``: an attribute path such as ``"data_key"`` or ``"case.data_key"``).
Give protected models a UUID primary key with ``default=uuid.uuid4``, or
inherit ``helpline.vault.models.ProtectedRecord``.

``BlindIndexField`` holds a hex HMAC digest from ``helpline.vault.blind_index``
and refuses anything that is not one, so a raw phone number cannot be stored
or searched for in it.
"""

import base64
import binascii
import re
import uuid
from functools import cached_property

from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.db import models
from django.db.models.fields import AutoFieldMixin
from django.db.models.query_utils import DeferredAttribute

from helpline.vault.errors import NotSealableError, PlaintextRefusedError
from helpline.vault.values import Sealed

DIGEST_PATTERN = re.compile(r"^[0-9a-f]{64}$")


class SealedAttribute(DeferredAttribute):
    """Lets only ``None`` and ``Sealed`` values onto the instance."""

    def __set__(self, instance, value):
        if value is not None and not isinstance(value, Sealed):
            raise PlaintextRefusedError(
                f"{self.field.model._meta.label}.{self.field.name} is encrypted: "
                f"write it with helpline.vault.services.seal(), not by assigning a {type(value).__name__}"
            )
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.BinaryField):
    description = "Text encrypted by the vault"
    descriptor_class = SealedAttribute

    def __init__(self, *args, data_key: str = "data_key", **kwargs):
        self.data_key_path = data_key
        self._data_key_steps = tuple(data_key.split("."))
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.data_key_path != "data_key":
            kwargs["data_key"] = self.data_key_path
        # null and blank default to True here, the opposite of Field.
        for flag in ("null", "blank"):
            if getattr(self, flag):
                kwargs.pop(flag, None)
            else:
                kwargs[flag] = False
        return name, path, args, kwargs

    def check(self, **kwargs):
        return [*super().check(**kwargs), *self._check_primary_key(), *self._check_data_key_path()]

    def _check_primary_key(self):
        if isinstance(self.model._meta.pk, AutoFieldMixin):
            return [
                checks.Error(
                    "An encrypted field binds its value to the primary key, which an auto-increment key "
                    "does not have before the row is inserted.",
                    hint="Use models.UUIDField(primary_key=True, default=uuid.uuid4) "
                    "or inherit helpline.vault.models.ProtectedRecord.",
                    obj=self,
                    id="vault.E001",
                )
            ]
        return []

    def _check_data_key_path(self):
        first = self.data_key_path.split(".")[0]
        try:
            relation = self.model._meta.get_field(first)
        except FieldDoesNotExist:
            relation = None
        if relation is None or not relation.is_relation:
            return [
                checks.Error(
                    f"data_key={self.data_key_path!r} must start with a relation of {self.model._meta.label}.",
                    obj=self,
                    id="vault.E002",
                )
            ]
        return []

    def get_default(self):
        return None

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def to_python(self, value):
        if value is None or isinstance(value, Sealed):
            return value
        if isinstance(value, bytes | memoryview | bytearray):
            return Sealed(value)
        if isinstance(value, str):
            # Only the serializers hand us a str: the base64 of an envelope (see value_to_string).
            try:
                return Sealed(base64.b64decode(value.encode("ascii"), validate=True))
            except (binascii.Error, UnicodeEncodeError, ValueError):
                raise PlaintextRefusedError(
                    f"{self.model._meta.label}.{self.name} only loads base64 envelopes produced by the vault"
                ) from None
        raise PlaintextRefusedError(f"{self.model._meta.label}.{self.name} cannot hold a {type(value).__name__}")

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, Sealed):
            return value.envelope
        raise PlaintextRefusedError(
            f"{self.model._meta.label}.{self.name} is encrypted: only sealed values are written or compared"
        )

    def pre_save(self, model_instance, add):
        value = super().pre_save(model_instance, add)
        if value is None and not self.null:
            raise NotSealableError(f"{self.model._meta.label}.{self.name} must be sealed before the record is saved")
        return value

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return None if value is None else base64.b64encode(value.envelope).decode("ascii")

    def formfield(self, **kwargs):
        # Never editable through a form: a form would hand us plaintext.
        return None

    # --- used by the vault services --------------------------------------------------

    def data_key_of(self, instance):
        """The DataKey this value is sealed under, following ``data_key`` from the instance."""
        target = instance
        try:
            for step in self._data_key_steps:
                target = getattr(target, step)
                if target is None:
                    break
        except ObjectDoesNotExist:
            target = None
        if target is None:
            raise NotSealableError(
                f"{instance._meta.label} has no data key at {self.data_key_path!r}; "
                "create one with helpline.vault.services.datakey_create()"
            )
        return target

    @cached_property
    def _owner(self):
        # The concrete model that owns the column, so proxies and subclasses read the same value.
        return self.model._meta.concrete_model._meta

    def binding(self, instance) -> tuple[str, str, str]:
        """(model label, field name, primary key): what a value is bound to, through its associated data."""
        pk = instance.pk
        if pk is None:
            raise NotSealableError(
                f"{instance._meta.label} has no primary key yet; give it a UUID primary key with a default"
            )
        return self.binding_of(pk)

    def binding_of(self, pk) -> tuple[str, str, str]:
        """``binding`` for the row of primary key ``pk`` (read as a plain value, no instance)."""
        owner = self._owner
        # One canonical text per key: a UUID given as a string is parsed first.
        pk_text = str(pk) if isinstance(pk, uuid.UUID) else str(owner.pk.to_python(pk))
        return owner.label_lower, self.name, pk_text


class BlindIndexField(models.CharField):
    """A 64-character hex HMAC digest, indexed, for exact-match lookups of an identifier."""

    description = "Blind index of an identifier"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        for key, default in (("max_length", 64), ("db_index", True), ("editable", False)):
            if kwargs.get(key, getattr(self, key)) == default:
                kwargs.pop(key, None)
            else:
                kwargs[key] = getattr(self, key)
        for flag in ("null", "blank"):
            if getattr(self, flag):
                kwargs.pop(flag, None)
            else:
                kwargs[flag] = False
        return name, path, args, kwargs

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, "") or (isinstance(value, str) and DIGEST_PATTERN.match(value)):
            return value
        raise ValueError(
            f"{self.model._meta.label}.{self.name} holds digests from helpline.vault.blind_index, "
            "never a raw identifier"
        )
