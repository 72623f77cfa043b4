from django.urls import path

from helpline.views import auth, health, home

app_name = "helpline"

urlpatterns = [
    path("", home.home, name="home"),
    path("console/", home.console, name="console"),
    path("supervisor/", home.supervisor, name="supervisor"),
    path("healthz", health.healthz, name="healthz"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("2fa/", auth.two_factor, name="two_factor"),
    path("2fa/enrol/", auth.enrol, name="enrol"),
    path("2fa/verify/", auth.verify, name="verify"),
    path("2fa/backup-codes/", auth.backup_codes, name="backup_codes"),
]
