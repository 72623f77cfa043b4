"""The staff stack's authentication backend (``AUTHENTICATION_BACKENDS``).

Django's model backend, except that the user a session names is read with their
staff profile in the same query: every staff request asks for the role
(``helpline.access.role_of``), so it was a second SELECT on every request. On a staff
request both come from the session's own read (``helpline.session_store``, which also
joins the second factor), when the session's row names the user its data names; else
they are read here. Either way they are read on every request, nothing is cached: a
deactivated user, a deleted session or a removed second factor is refused on the very
next one.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from helpline.session_store import SIGNED_IN


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        signed_in = SIGNED_IN.get()
        if signed_in is not None and signed_in.user_pk == user_id:
            # Read with the session, in its statement, this request (helpline.session_store).
            user = signed_in.user
            return user if user is not None and self.user_can_authenticate(user) else None
        try:
            user = _users().get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        try:
            user = await _users().aget(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def _users():
    # A user without a profile (the superuser made at installation) is read too: it is a LEFT JOIN.
    return get_user_model()._default_manager.select_related("staff")
