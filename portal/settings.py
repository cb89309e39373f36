"""Settings for the Covage order-entry portal.

Everything comes from environment variables (see README). With nothing set, the portal runs on
one machine: SQLite, a file-system Celery broker that needs no server, and the local Covage
sandbox as the API.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from portal import deploy
from portal.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PORTAL_VAR_DIR", str(BASE_DIR / "var")))
# Runtime files (SQLite, file cache, file broker, media) live here; git ignores it.
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -----------------------------------------------------------------------------------
# "development" (the default: a laptop, plain http) or "production": one switch turns every
# secure setting on and refuses to start without a real secret, hosts and Covage account.
PORTAL_ENV = deploy.portal_environment(env_str("PORTAL_ENV", deploy.DEVELOPMENT))
IS_PRODUCTION = PORTAL_ENV == deploy.PRODUCTION
DEBUG = env_bool("DEBUG", False)
# The embedded key is only for a local run: `check --deploy` flags it, production refuses it.
SECRET_KEY = env_str("SECRET_KEY", "" if IS_PRODUCTION else deploy.DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "" if IS_PRODUCTION else "127.0.0.1,localhost,[::1],testserver"
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_celery_beat",
    "simple_history",
    # Security: failed-login lockouts, TOTP second factor, Content-Security-Policy.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "portal",
    "covage",
    "covage.sandbox",
    "orders",
    "exports",
    "reconciliation",
    "bulk",
    "dashboard",
    "notifications",
    "directory",
]

if IS_PRODUCTION:
    # The simulated Covage API has no place next to real orders.
    INSTALLED_APPS.remove("covage.sandbox")

MIDDLEWARE = [
    # First: nothing that serves a request may call Covage (covage/guard.py).
    "covage.guard.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Serves /static/ from any WSGI server (gunicorn in `make run`), no web server needed.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The same strict policy in every environment (CONTENT_SECURITY_POLICY below).
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the user's choice (a cookie), else the browser's, else LANGUAGE_CODE.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): has this session passed the second factor?
    "django_otp.middleware.OTPMiddleware",
    # Every page needs a login unless its view says otherwise (login page, sandbox API).
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Idle and absolute session expiry, then the second factor (portal/security.py).
    "portal.security.SessionExpiryMiddleware",
    "portal.security.SecondFactorMiddleware",
    # Last, as django-axes asks: turns a lockout during a login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The sandbox process serves covage.sandbox.urls alone (see covage/sandbox/wsgi.py); nothing
# else can be chosen from the environment, and production never serves the sandbox.
ROOT_URLCONF = deploy.root_urlconf(env_str("PORTAL_URLCONF", ""), production=IS_PRODUCTION)
WSGI_APPLICATION = "portal.wsgi.application"

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
                "portal.context_processors.roles",
            ],
            # `{% url %}` with each URL reversed once per process (the module says why).
            "builtins": ["portal.templatetags.cached_url"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        # Persistent connections: a new PostgreSQL connection per request (a backend process
        # forked each time) was where the sessions list lost most of its time under load
        # (tests/perf/test_load_bench.py). Checked before reuse, so a restarted server costs
        # one failed check, not an error.
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Parameters bound by the server instead of quoted into the SQL text by psycopg: psycopg
    # then prepares the queries a connection runs often (from their 5th run) and PostgreSQL
    # stops parsing and planning them on every page. The sessions list served about a quarter
    # more at saturation (tests/perf/test_load_bench.py). Behind PgBouncer in transaction
    # pooling (before 1.21), set DATABASE_SERVER_SIDE_BINDING=false.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env_bool(
        "DATABASE_SERVER_SIDE_BINDING", True
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker, beat and sandbox share one SQLite file in the embedded setup: WAL lets
    # readers go on during a write, IMMEDIATE transactions and a timeout queue writers
    # instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (also holds the Covage token, shared by every process) ---------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "portal"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# --- Auth -----------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First, as django-axes requires: refuses locked-out users and addresses before any check.
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading the request's user with their roles and second factor at once.
    "portal.auth.PortalBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after SESSION_IDLE_TIMEOUT seconds without a request and, whatever happens,
# SESSION_ABSOLUTE_TIMEOUT seconds after the login (portal.security.SessionExpiryMiddleware).
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 60 * 60)
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT", 8 * 60 * 60)
# The cookie and the stored session never outlive the absolute limit.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", SESSION_ABSOLUTE_TIMEOUT)
# Every page reads its session: from the cache (Redis) first, written through to the database,
# which stays the record (a cache flush or a Redis restart logs nobody out).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Failed logins (portal and admin) are counted per user name and, separately, per client
# address: either one reaching the limit locks logins out for the cool-off time. Lockouts are
# listed in the admin (Axes > Access attempts); deleting one lifts it.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_float("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A success does not wipe the failures: it would wipe every failure from the same address
# too, letting anyone with an account reset the count on someone else's between guesses.
AXES_RESET_ON_SUCCESS = False
# One page for every lockout, that never tells whether the user name exists.
AXES_LOCKOUT_CALLABLE = "portal.security.lockout_response"
# Behind a proxy every client would share the proxy's address (and its lockout): name the
# header the proxy sets and how many proxies stand in front, e.g. HTTP_X_FORWARDED_FOR and 1.
AXES_IPWARE_META_PRECEDENCE_ORDER = env_list("AXES_IPWARE_META_PRECEDENCE_ORDER", "REMOTE_ADDR")
AXES_IPWARE_PROXY_COUNT = env_int("AXES_IPWARE_PROXY_COUNT", 0) or None
AXES_IPWARE_PROXY_TRUSTED_IPS = env_list("AXES_IPWARE_PROXY_TRUSTED_IPS", "") or None

# Second factor: staff can enrol a TOTP app (/account/two-factor/); production requires it of
# staff. A user with a device always passes it after the password.
PORTAL_REQUIRE_STAFF_2FA = env_bool("PORTAL_REQUIRE_STAFF_2FA", IS_PRODUCTION)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Covage portal")
# The admin lists devices without their secret keys or QR codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

# --- I18N -----------------------------------------------------------------------------------
# French by default for a new installation; the browser's language or the user's choice wins.
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", "Français"), ("en", "English")]
# The catalogue (portal/translations.py keeps it with Python-only tools; the .mo is committed).
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as in France (day first, 24-hour clock): portal/formats/en/formats.py.
FORMAT_MODULE_PATH = ["portal.formats"]
# The choice made with the language switch is kept for a year, across logins.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SECURE = IS_PRODUCTION
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # WhiteNoise warns at start-up when it is missing.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Tests and runserver find static files in the app folders without collectstatic.
WHITENOISE_USE_FINDERS = True

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -------------------------------------------------------------------------------
# PORTAL_ENV=production turns these on; each can still be set by the environment variable of
# the same name. Behind a proxy that terminates TLS, set SECURE_PROXY_SSL_HEADER (e.g.
# "HTTP_X_FORWARDED_PROTO,https"), or the HTTPS redirect never ends.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", IS_PRODUCTION)
SECURE_SSL_HOST = env_str("SECURE_SSL_HOST", "") or None
SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", "")
SECURE_PROXY_SSL_HEADER = deploy.proxy_ssl_header(env_str("SECURE_PROXY_SSL_HEADER", ""))
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 60 * 60 if IS_PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", IS_PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", IS_PRODUCTION)
SECURE_CONTENT_TYPE_NOSNIFF = env_bool("SECURE_CONTENT_TYPE_NOSNIFF", True)
SECURE_REFERRER_POLICY = env_str("SECURE_REFERRER_POLICY", "same-origin")
SECURE_CROSS_ORIGIN_OPENER_POLICY = env_str("SECURE_CROSS_ORIGIN_OPENER_POLICY", "same-origin")
# SECURE_COOKIES (older name) still sets both cookie flags at once.
_SECURE_COOKIES = env_bool("SECURE_COOKIES", IS_PRODUCTION)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _SECURE_COOKIES)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _SECURE_COOKIES)
SESSION_COOKIE_HTTPONLY = env_bool("SESSION_COOKIE_HTTPONLY", True)
SESSION_COOKIE_SAMESITE = env_str("SESSION_COOKIE_SAMESITE", "Lax")
# htmx sends the token from the page (hx-headers), so no script needs to read the cookie.
CSRF_COOKIE_HTTPONLY = env_bool("CSRF_COOKIE_HTTPONLY", True)
CSRF_COOKIE_SAMESITE = env_str("CSRF_COOKIE_SAMESITE", "Lax")
X_FRAME_OPTIONS = env_str("X_FRAME_OPTIONS", "DENY")

# A strict Content-Security-Policy everywhere: scripts and styles from our own static files
# only (no inline script, style attribute, eval or CDN). Bootstrap's CSS draws its icons
# with data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# --- Celery ---------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        # Unacknowledged tasks come back after this; every countdown stays well below it.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600),
    }
else:
    # A broker that needs no server: messages are files under var/celery. kombu's filesystem
    # transport, made safe for a prefork worker (portal/broker.py).
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT = "portal.broker:Transport"
    _broker_dir = VAR_DIR / "celery"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Fan-out exchanges (worker remote control); kombu's default is ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_QUEUE", "celery")
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE

# --- Address search (the BAN, France's national address base) --------------------------------
# Its /search/ API (GeoJSON). On a laptop, the sandbox's small copy of it; in production the
# public service. The search waits at most ADDRESS_SEARCH_TIMEOUT seconds in all, once.
ADDRESS_SEARCH_URL = env_str(
    "ADDRESS_SEARCH_URL",
    "https://api-adresse.data.gouv.fr"
    if IS_PRODUCTION
    else f"http://{env_str('COVAGE_SANDBOX_ADDR', '127.0.0.1:8001')}/ban",
)
ADDRESS_SEARCH_TIMEOUT = env_float("ADDRESS_SEARCH_TIMEOUT", 1.0)

# --- Covage API -----------------------------------------------------------------------------
SANDBOX_ADDR = env_str("COVAGE_SANDBOX_ADDR", "127.0.0.1:8001")
# On a laptop the local sandbox; production names Covage's hosts (https only).
COVAGE_API_URL = env_str("COVAGE_API_URL", "" if IS_PRODUCTION else f"http://{SANDBOX_ADDR}")
COVAGE_TOKEN_URL = env_str(
    "COVAGE_TOKEN_URL",
    ""
    if IS_PRODUCTION
    else f"http://{SANDBOX_ADDR}/auth/realms/covage/protocol/openid-connect/token",
)
COVAGE_CLIENT_ID = env_str("COVAGE_CLIENT_ID", "api-client")
# The sandbox's demo account, on a laptop only: production needs the account Covage issued.
COVAGE_USERNAME = env_str("COVAGE_USERNAME", "" if IS_PRODUCTION else "demo")
COVAGE_PASSWORD = env_str("COVAGE_PASSWORD", "" if IS_PRODUCTION else "demo")
COVAGE_CONNECT_TIMEOUT = env_float("COVAGE_CONNECT_TIMEOUT", 5.0)
COVAGE_READ_TIMEOUT = env_float("COVAGE_READ_TIMEOUT", 30.0)
COVAGE_MAX_RETRIES = env_int("COVAGE_MAX_RETRIES", 4)
COVAGE_BACKOFF_BASE = env_float("COVAGE_BACKOFF_BASE", 0.5)
COVAGE_BACKOFF_MAX = env_float("COVAGE_BACKOFF_MAX", 30.0)
# Longest Retry-After the client sleeps through inside one call; longer waits are raised
# as RateLimited so that a Celery task can reschedule itself instead of holding a slot.
COVAGE_MAX_RETRY_AFTER = env_float("COVAGE_MAX_RETRY_AFTER", 10.0)
# Reading one session back and finding one by external id are not in Covage's documents. The
# portal uses them while they answer, to recover faster, and settles from CSV exports when
# they do not (or when this is false: then it never calls them).
COVAGE_UNDOCUMENTED_LOOKUPS = env_bool("COVAGE_UNDOCUMENTED_LOOKUPS", True)
# After a 404/405/501 from one of them, how long the portal goes without asking again.
COVAGE_UNDOCUMENTED_RECHECK_SECONDS = env_int("COVAGE_UNDOCUMENTED_RECHECK_SECONDS", 3600)

if IS_PRODUCTION:
    # Refuse to start rather than run with a guessable key, open hosts or the demo account.
    deploy.require_production_ready(
        secret_key=SECRET_KEY,
        debug=DEBUG,
        allowed_hosts=ALLOWED_HOSTS,
        covage_api_url=COVAGE_API_URL,
        covage_token_url=COVAGE_TOKEN_URL,
        covage_username=COVAGE_USERNAME,
        covage_password=COVAGE_PASSWORD,
    )

# --- Covage sandbox (the simulated API; its knobs) ------------------------------------------
COVAGE_SANDBOX = {
    "ACCOUNTS": env_str("COVAGE_SANDBOX_ACCOUNTS", "demo:demo"),
    "TOKEN_TTL": env_int("COVAGE_SANDBOX_TOKEN_TTL", 300),
    "REFRESH_TTL": env_int("COVAGE_SANDBOX_REFRESH_TTL", 1800),
    "LATENCY_MS": env_int("COVAGE_SANDBOX_LATENCY_MS", 0),
    "ERROR_RATE": env_float("COVAGE_SANDBOX_ERROR_RATE", 0.0),
    "TIMEOUT_RATE": env_float("COVAGE_SANDBOX_TIMEOUT_RATE", 0.0),
    "TIMEOUT_SECONDS": env_float("COVAGE_SANDBOX_TIMEOUT_SECONDS", 35.0),
    "RATE_LIMIT_RATE": env_float("COVAGE_SANDBOX_429_RATE", 0.0),
    "RATE_LIMIT_RETRY_AFTER": env_int("COVAGE_SANDBOX_429_RETRY_AFTER", 1),
    "CONFIRM_DELAY": env_float("COVAGE_SANDBOX_CONFIRM_DELAY", 5.0),
    "EXPORT_DELAY": env_float("COVAGE_SANDBOX_EXPORT_DELAY", 5.0),
    "EXPORT_WINDOW": env_int("COVAGE_SANDBOX_EXPORT_WINDOW", 300),
    "EXPORT_FAILURE_RATE": env_float("COVAGE_SANDBOX_EXPORT_FAILURE_RATE", 0.0),
    "TRACKING_STEP_SECONDS": env_float("COVAGE_SANDBOX_TRACKING_STEP_SECONDS", 30.0),
    "SEED": env_str("COVAGE_SANDBOX_SEED", ""),
    # "examples" answers enni2/cpe_network_number, "tables" enni_2/cpe_networking_number.
    "SPELLING": env_str("COVAGE_SANDBOX_SPELLING", "examples"),
    # Pads export CSVs with synthetic rows up to this size (download benchmarks).
    "EXPORT_MIN_BYTES": env_int("COVAGE_SANDBOX_EXPORT_MIN_BYTES", 0),
    # "off": the reads the documents do not describe answer 404/405, as a strict Covage would.
    "ADDRESS_DELAY": env_float("COVAGE_SANDBOX_ADDRESS_DELAY", 0.0),
    "UNDOCUMENTED": env_str("COVAGE_SANDBOX_UNDOCUMENTED", "on"),
}

# --- Demo users (make run) ------------------------------------------------------------------
DEMO_PASSWORD = env_str("PORTAL_DEMO_PASSWORD", "")

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}

# --- Exports --------------------------------------------------------------------------------
# Covage allows one CSV export request per window per user; the portal keeps to it locally.
# Export files hold customers' personal data: readable by the portal's own user only.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
EXPORT_WINDOW_SECONDS = env_int("EXPORT_WINDOW_SECONDS", 300)
EXPORT_RETENTION_DAYS = env_int("EXPORT_RETENTION_DAYS", 7)
# Delay between status polls: FIRST, then times FACTOR, capped at MAX. Every countdown stays
# far below the broker's visibility timeout (1 h), so Redis does not redeliver a waiting poll.
EXPORT_POLL_BACKOFF = {
    "FIRST": env_float("EXPORT_POLL_FIRST_DELAY", 2.0),
    "FACTOR": env_float("EXPORT_POLL_FACTOR", 2.0),
    "MAX": env_float("EXPORT_POLL_MAX_DELAY", 60.0),
}
EXPORT_MAX_POLLS = env_int("EXPORT_MAX_POLLS", 120)
# A worker that died while asking Covage to start an export, or while downloading one, is
# taken over after these many seconds.
EXPORT_START_STALE_SECONDS = env_int("EXPORT_START_STALE_SECONDS", 300)
# The sweeper (every minute) re-queues work stalled for longer than this.
ORDERS_SWEEPER_GRACE_SECONDS = env_int("ORDERS_SWEEPER_GRACE_SECONDS", 120)
EXPORT_DOWNLOAD_STALE_SECONDS = env_int("EXPORT_DOWNLOAD_STALE_SECONDS", 900)
# Imports of lines from a sheet (bulk/): the largest file and the most rows accepted, and the
# size above which a file is read by a worker (the preview shows the progress).
BULK_IMPORT_MAX_UPLOAD_MB = env_float("BULK_IMPORT_MAX_UPLOAD_MB", 10.0)
BULK_IMPORT_MAX_ROWS = env_int("BULK_IMPORT_MAX_ROWS", 5000)
BULK_IMPORT_BACKGROUND_KB = env_int("BULK_IMPORT_BACKGROUND_KB", 64)

# --- E-mail (notifications, issue 14) -------------------------------------------------------
# The console backend (e-mails printed by the worker) unless an SMTP host is given.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587 if EMAIL_HOST else 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", bool(EMAIL_HOST) and not env_bool("EMAIL_USE_SSL"))
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Covage portal <portal@localhost>")
# Links in e-mails point here (no request to read the host from in a worker).
PORTAL_BASE_URL = env_str("PORTAL_BASE_URL", "http://127.0.0.1:8000")
