"""Keyed hashes: one key per purpose, derived from the key set, never usable without it."""

import hashlib
import hmac

from helpline.vault.keyed_hash import HashPurpose, keyed_hash
from helpline.vault.keys import keys_get, keyset_generate
from tests.vault.conftest import keys_use


def test_the_same_value_hashes_alike_for_one_purpose_and_differently_for_another():
    session = keyed_hash(purpose=HashPurpose.SESSION_KEY, value="abc")
    assert session == keyed_hash(purpose=HashPurpose.SESSION_KEY, value="abc")
    assert len(session) == 64 and int(session, 16) >= 0
    others = {keyed_hash(purpose=purpose, value="abc") for purpose in HashPurpose}
    assert len(others) == len(HashPurpose)


def test_the_hash_is_not_a_plain_or_index_keyed_digest():
    value = "counsellor"
    digest = keyed_hash(purpose=HashPurpose.LOGIN_NAME, value=value)
    assert digest != hashlib.sha256(value.encode()).hexdigest()
    assert digest != hmac.new(keys_get().index_key, value.encode(), hashlib.sha256).hexdigest()


def test_another_key_set_gives_other_hashes(settings):
    before = keyed_hash(purpose=HashPurpose.BACKUP_CODE, value="1|abcd2345")
    keys_use(settings, keyset_generate())
    assert keyed_hash(purpose=HashPurpose.BACKUP_CODE, value="1|abcd2345") != before
