"""What a helpline manager never needs to see in the admin: the tables of the machinery.

Login-throttling records (django-axes: addresses and keyed hashes of attempted user
names; a supervisor unlocks colleagues at /supervisor/sign-ins/), background task
results (django-tasks), second-factor devices
(django-otp: they would let an administrator read a colleague's key or add a device
for them and so log in as them; resetting 2FA is the only device action offered) and
permission groups (what someone may do follows from their role). Sessions, the
sealed authenticators and hashed backup codes (helpline.models.twofactor), login unlocks
and periodic job state are never registered. Apps listed before helpline register these;
helpline's admin module is imported after theirs and takes them out.
"""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult

INTERNAL_MODELS = [AccessAttempt, AccessLog, AccessFailureLog, DBTaskResult, TOTPDevice, StaticDevice, Group]

for model in INTERNAL_MODELS:
    if admin.site.is_registered(model):
        admin.site.unregister(model)
