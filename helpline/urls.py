from django.urls import path

from helpline.views import auth, blocks, console, health, home, logins, supervision
from helpline.webchat import views as webchat

app_name = "helpline"

urlpatterns = [
    path("", home.home, name="home"),
    # Counsellor console (helpline.views.console).
    path("console/", console.console, name="console"),
    path("console/queue/", console.queue, name="console_queue"),
    path("console/mine/", console.mine, name="console_mine"),
    path("console/presence/", console.presence, name="console_presence"),
    path("console/todo/", console.todo, name="console_todo"),
    path("console/take/", console.take, name="console_take_next"),
    path("console/take/<uuid:contact_id>/", console.take, name="console_take"),
    path("console/c/<uuid:contact_id>/", console.conversation, name="console_conversation"),
    path("console/c/<uuid:contact_id>/live/", console.conversation_live, name="console_live"),
    path("console/c/<uuid:contact_id>/send/", console.send, name="console_send"),
    path("console/c/<uuid:contact_id>/draft/", console.draft, name="console_draft"),
    path("console/c/<uuid:contact_id>/risk/", console.risk, name="console_risk"),
    path("console/c/<uuid:contact_id>/safety/", console.safety, name="console_safety"),
    path("console/c/<uuid:contact_id>/transfer/", console.transfer, name="console_transfer"),
    path("console/c/<uuid:contact_id>/end/", console.end, name="console_end"),
    path("console/c/<uuid:contact_id>/close/", console.close, name="console_close"),
    # Supervisor console (helpline.views.supervision).
    path("supervisor/", supervision.supervisor, name="supervisor"),
    path("supervisor/board/", supervision.board, name="supervisor_board"),
    path("supervisor/live/", supervision.live, name="supervisor_live"),
    path("supervisor/alerts/", supervision.alerts, name="supervisor_alerts"),
    path("supervisor/team/", supervision.team, name="supervisor_team"),
    path("supervisor/todo/", supervision.todo, name="supervisor_todo"),
    path("supervisor/c/<uuid:contact_id>/", supervision.read_along, name="supervisor_read_along"),
    path("supervisor/c/<uuid:contact_id>/live/", supervision.read_along_live, name="supervisor_read_along_live"),
    path("supervisor/c/<uuid:contact_id>/assign/", supervision.assign, name="supervisor_assign"),
    path("supervisor/staff/<int:staff_id>/presence/", supervision.set_presence, name="supervisor_presence"),
    # Blocking abusive senders (helpline.views.blocks).
    path("supervisor/c/<uuid:contact_id>/block/", blocks.block, name="supervisor_block"),
    path("supervisor/blocks/", blocks.blocks, name="supervisor_blocks"),
    path("supervisor/blocks/<int:block_id>/unblock/", blocks.unblock, name="supervisor_unblock"),
    # Sign-in lockouts of colleagues (helpline.views.logins).
    path("supervisor/sign-ins/", logins.lockouts, name="login_lockouts"),
    path("supervisor/sign-ins/<int:staff_id>/unlock/", logins.unlock, name="login_unlock"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("2fa/", auth.two_factor, name="two_factor"),
    path("2fa/enrol/", auth.enrol, name="enrol"),
    path("2fa/verify/", auth.verify, name="verify"),
    path("2fa/backup-codes/", auth.backup_codes, name="backup_codes"),
    path("chat/<slug:line_slug>/", webchat.chat, name="webchat"),
]
