"""Settings for the helpline platform: one module, driven by environment variables.

Two modes:
- embedded (the default): SQLite in WAL mode under var/, the in-memory channel
  layer, the task worker inside the web process, keys generated into var/.
- production (HELPLINE_MODE=production): PostgreSQL and Redis from the
  environment, secure cookies, and a refusal to start on unsafe values.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str
from config.private_files import var_dir_make_private

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("HELPLINE_VAR_DIR", str(BASE_DIR / "var")))

MODE = env_str("HELPLINE_MODE", "embedded")
if MODE not in {"embedded", "production"}:
    raise ImproperlyConfigured("HELPLINE_MODE must be 'embedded' or 'production'")
PRODUCTION = MODE == "production"

# A key that is known to everyone who reads this file; production refuses it.
EMBEDDED_SECRET_KEY = "embedded-only-not-secret-4f1c9e0b7a2d4c6e8f0a1b3c5d7e9f1a2b4c6d8e"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", EMBEDDED_SECRET_KEY)
DEBUG = env_bool("DEBUG", False)

if PRODUCTION:
    if SECRET_KEY == EMBEDDED_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set to a random value of at least 50 characters in production"
        )
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be false in production")
    if not (env_str("HELPLINE_KEYS") or env_str("HELPLINE_KEYS_FILE")):
        raise ImproperlyConfigured("HELPLINE_KEYS or HELPLINE_KEYS_FILE must be set in production")

PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set in production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "helpline",
    "helpline.vault",
    "helpline.audit",
    # django.contrib.admin with the platform's site; after helpline, so that helpline/templates/admin/
    # (the platform's stylesheet on every admin page) comes before the admin's own templates.
    "helpline.apps.HelplineAdminConfig",
    "cases",
    "referrals",
    "referrals.sop",
    "integrations.twilio",
    "integrations.ncmec",
    "integrations.webhook",
    "integrations.iwf",
    "integrations.cpims",
    "integrations.email",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "helpline.middleware.SessionAuthenticationMiddleware",
    "helpline.middleware.IdleTimeoutMiddleware",
    "helpline.middleware.SessionOTPMiddleware",
    "helpline.middleware.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Machine endpoints (webhooks) skip the staff stack above: no session, user or 2FA applies to
# them, and its sync-only middlewares cost each request extra thread hops (config/machine.py).
# The referral API (/api/v1/) is one too: an agency's system comes with an API key, never a session.
HELPLINE_MACHINE_PATH_PREFIXES = ["/integrations/", "/api/v1/"]
HELPLINE_MACHINE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "helpline.context_processors.csp_nonce",
                "helpline.context_processors.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
if PRODUCTION:
    # Holds only collected static files; the service user and its umask decide (docs/SECURITY.md).
    VAR_DIR.mkdir(parents=True, exist_ok=True)
else:
    # The SQLite database, its -wal/-shm and keys.json: umask 077, var/ 0700, files 0600.
    var_dir_make_private(VAR_DIR)
DATABASE_URL = env_str("DATABASE_URL")
if PRODUCTION and not DATABASE_URL:
    raise ImproperlyConfigured("DATABASE_URL must be set in production")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "helpline.sqlite3",
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the in-process worker writes;
    # IMMEDIATE transactions avoid "database is locked" on upgrade from read to write.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;",
        "transaction_mode": "IMMEDIATE",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # Measured: persistent connections exhaust PostgreSQL's slots under ASGI; a pool does not.
    # Sized for the threads that hold a connection at once in one process: the consumers'
    # database threads (HELPLINE_DATABASE_THREADS) plus the request threads (HELPLINE_REQUEST_THREADS).
    DATABASES["default"]["OPTIONS"] = {
        "pool": {"min_size": 1, "max_size": env_int("DATABASE_POOL_MAX", 20), "timeout": 10}
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Threads per process on which the WebSocket consumers do their database work in parallel
# (helpline.realtime.database_call); each holds a pooled connection while it works.
HELPLINE_DATABASE_THREADS = env_int("HELPLINE_DATABASE_THREADS", 8)
# Threads per process that serve HTTP requests (config.machine.OneThreadASGIHandler), each holding
# a pooled connection while it serves one; requests beyond them wait their turn on the event loop.
HELPLINE_REQUEST_THREADS = env_int("HELPLINE_REQUEST_THREADS", 12)
# A web chat reply is delivered straight after its commit; its task (the fallback should the process
# die first) is due only this many seconds later, and deleted by the delivery that made it unneeded.
HELPLINE_IMMEDIATE_DELIVERY_GRACE_SECONDS = env_int("HELPLINE_IMMEDIATE_DELIVERY_GRACE_SECONDS", 15)
# How often each server process checks that the channel layer kept its state (Redis not
# restarted or unreachable); when it did not, its sockets reconnect (helpline.realtime.socket_watch).
HELPLINE_LAYER_WATCH_SECONDS = float(env_str("HELPLINE_LAYER_WATCH_SECONDS", "1"))

# --- Realtime and background work ----------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set in production")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's, with group_send in one round trip to Redis instead of four.
            "BACKEND": "helpline.layers.RedisChannelLayer",
            "CONFIG": {
                # Every group_send borrows a connection; the default pool of 100 runs out when
                # hundreds of live conversations are notified at once (measured in bench/realtime.py).
                # redis-py 8 reads with a 5 s socket timeout, the same as channels_redis's 5 s
                # blocking pop: under load the read lost the race and killed consumers.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": env_int("CHANNEL_MAX_CONNECTIONS", 1000),
                        "socket_timeout": 15,
                    }
                ],
                # channels_redis drops silently past capacity, and every socket of one server
                # process shares one Redis list (its process-local channel): the capacity is the
                # backlog of a whole process, not of one socket. At 500, the burst after a Redis
                # restart (every page reconnecting and reloading at once) dropped events for live
                # sockets under 200 conversations (bench/drill_redis.py). Never rely on the layer
                # for anything that must not be lost: the database is the truth.
                "capacity": env_int("CHANNEL_CAPACITY", 20000),
                "expiry": 60,
                "prefix": env_str("CHANNEL_PREFIX", "helpline"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# Short-lived counters (new web chats per address). Shared through Redis in production,
# per process otherwise.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cache"}
    if PRODUCTION
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Embedded mode runs the worker as a thread of the web process; production runs
# `manage.py db_worker` processes beside the web processes.
TASKS_INPROCESS_WORKER = env_bool("HELPLINE_INPROCESS_WORKER", not PRODUCTION)
# /healthz reports the worker stalled when a ready task has waited longer than this.
TASKS_STALL_SECONDS = env_int("HELPLINE_TASK_STALL_SECONDS", 120)

# --- Channels -----------------------------------------------------------------------
# Which adapter sends each channel's messages (helpline.gateways.Gateway).
HELPLINE_GATEWAYS = {
    "sms": "integrations.twilio.gateway.TwilioGateway",
    "whatsapp": "integrations.twilio.gateway.TwilioGateway",
    "webchat": "helpline.webchat.gateway.WebChatGateway",
}
HELPLINE_SEND_MAX_ATTEMPTS = env_int("HELPLINE_SEND_MAX_ATTEMPTS", 5)
HELPLINE_SEND_RETRY_SECONDS = env_int("HELPLINE_SEND_RETRY_SECONDS", 10)
# Referral deliveries (referrals.outbox): attempts before a referral is marked failed, first retry wait.
REFERRAL_DELIVERY_MAX_ATTEMPTS = env_int("REFERRAL_DELIVERY_MAX_ATTEMPTS", 8)
REFERRAL_DELIVERY_RETRY_SECONDS = env_int("REFERRAL_DELIVERY_RETRY_SECONDS", 30)
# Due deliveries one worker task claims, sends and records together (helpline.outbox batches): a batch costs
# about ten statements and two commits whatever its size (docs/PERFORMANCE.md, "Referral delivery, third pass").
REFERRAL_DELIVERY_BATCH = env_int("REFERRAL_DELIVERY_BATCH", 100)
# What referral documents say about the helpline that sends them (docs/referral-document.schema.json).
HELPLINE_COUNTRY = env_str("HELPLINE_COUNTRY", "")
HELPLINE_PHONE = env_str("HELPLINE_PHONE", "")
HELPLINE_EMAIL = env_str("HELPLINE_EMAIL", "")
# New web chats one client address may open in ten minutes (many children share a
# mobile operator's address; a script opening hundreds is refused).
HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS = env_int("HELPLINE_WEBCHAT_NEW_CHATS_PER_ADDRESS", 20)
# Where the Twilio REST API is; only tests point it at a local fake.
TWILIO_API_BASE_URL = env_str("TWILIO_API_BASE_URL", "")

# --- The referral API (referrals.api, docs/API.md) -------------------------------------------------
# API keys are the only way in; errors are RFC 9457 problems; each key has its own rate limit
# (counted in the cache above: Redis in production).
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["referrals.api.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["referrals.api.permissions.ScopeRequired"],
    "DEFAULT_THROTTLE_CLASSES": ["referrals.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("HELPLINE_API_RATE", "120/min")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["referrals.api.parsers.JSONParser"],
    "DEFAULT_METADATA_CLASS": None,
    "EXCEPTION_HANDLER": "referrals.api.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "referrals.api.schema.ApiAutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Helpline referral API",
    "DESCRIPTION": "For agencies' systems: the referrals sent to your agency, and your answers to them. "
    "Authenticate with your agency's API key (Authorization: Bearer hlk_…). Errors are RFC 9457 problem "
    "details (application/problem+json).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_PUBLIC": True,
}

# --- Authentication, 2FA, sessions ----------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Django's model backend, reading the staff profile with the user (one query per request fewer).
    "helpline.auth_backends.StaffBackend",
]
LOGIN_URL = "helpline:login"
LOGIN_REDIRECT_URL = "helpline:home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
OTP_TOTP_ISSUER = env_str("HELPLINE_TOTP_ISSUER", "Helpline")
# Nobody, administrators included, reads another user's authenticator key or backup codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
BACKUP_CODE_COUNT = 10

# Failed logins (helpline.login_throttle, docs/SECURITY.md): each (user name, address) pair waits
# HELPLINE_LOGIN_DELAY_SECONDS x 2^(failures - 1) after a failure and is locked at the failure limit;
# an address is locked after its own, higher limit across all names; a supervisor can unlock.
AXES_HANDLER = "helpline.login_throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = env_int("HELPLINE_LOGIN_FAILURE_LIMIT", 5)
HELPLINE_LOGIN_ADDRESS_FAILURE_LIMIT = env_int("HELPLINE_LOGIN_ADDRESS_FAILURE_LIMIT", 30)
HELPLINE_LOGIN_DELAY_SECONDS = env_int("HELPLINE_LOGIN_DELAY_SECONDS", 1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("HELPLINE_LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# What axes stores as the user name is a keyed hash, so a password typed into that box is never kept.
AXES_USERNAME_CALLABLE = "helpline.login_throttle.login_name_for_axes"
AXES_LOCKOUT_CALLABLE = "helpline.login_throttle.lockout_response"
# A right password clears that pair's failures only; other names' failures from the address stay.
AXES_RESET_ON_SUCCESS = True
# A refused attempt checked no password, so it is not a failure and does not extend the wait.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The audit trail records logins; axes keeps only the failures it counts, and shows them nowhere.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False
# The client address is REMOTE_ADDR; behind a proxy, run uvicorn with --proxy-headers
# and --forwarded-allow-ips so that it is the child's or counsellor's, not the proxy's.
AXES_VERBOSE = False
# Its records hold attempted user names (often mistyped passwords): never shown in the admin.
AXES_ENABLE_ADMIN = False

# Sessions are stored under a keyed hash of their key, never the cookie value (docs/SECURITY.md).
SESSION_ENGINE = "helpline.session_store"
# Idle timeout: a session ends this long after the last thing its user did (helpline.middleware).
SESSION_COOKIE_AGE = env_int("HELPLINE_IDLE_TIMEOUT_MINUTES", 30) * 60
# The activity stamp (and so the session row) is written at most once per this many seconds, not
# on every request; a session therefore ends between the idle timeout and this much later.
HELPLINE_SESSION_TOUCH_SECONDS = env_int("HELPLINE_SESSION_TOUCH_SECONDS", 60)
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION

# --- HTTP security ---------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
# "no-referrer" makes browsers send "Origin: null" on form posts, which CSRF checks refuse.
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
        "manifest-src": [SELF],
    }
}

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("sw", _("Swahili")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files ------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise looks for it at start-up, before collectstatic has run
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- Email -------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend" if PRODUCTION else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "helpline@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Keys for the vault and the blind index ----------------------------------------
HELPLINE_KEYS = env_str("HELPLINE_KEYS")
HELPLINE_KEYS_FILE = env_str("HELPLINE_KEYS_FILE", "" if PRODUCTION else str(VAR_DIR / "keys.json"))

# --- Logging -----------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "helpline.vault.redaction.RedactProtectedFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Every logger that has handlers of its own (Django's, the ASGI servers') is routed
        # through the redacting handler instead, so no path to the console skips the filter.
        **{
            name: {"handlers": ["console"], "level": "INFO", "propagate": False}
            for name in ("django", "uvicorn", "uvicorn.error", "daphne", "channels", "django_tasks_db")
        },
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
