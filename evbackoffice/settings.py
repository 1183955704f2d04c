"""Settings for evbackoffice, read from the environment (see .env.example).

With nothing set the product runs embedded: SQLite, an in-memory channel layer and Celery tasks run inline.
DATABASE_URL, REDIS_URL and CELERY_BROKER_URL bring in the real services. DEBUG=false switches on the
production hardening on the same code path.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"  # local state of the embedded default: database, private files

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)

# An insecure key is acceptable only for the embedded development default.
if DEBUG:
    SECRET_KEY = env.str("SECRET_KEY", default="django-insecure-evbackoffice-embedded-development-only")
else:
    SECRET_KEY = env.str("SECRET_KEY")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "djmoney",
    "django_countries",
    "channels",
    "allauth",
    "allauth.account",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "customers",
    "stations",
    "billing",
    "staff",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff security (staff/): which device verified this session, then expiry, 2FA and the audit scope.
    "django_otp.middleware.OTPMiddleware",
    "staff.middleware.StaffSecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "evbackoffice.urls"
ASGI_APPLICATION = "evbackoffice.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL lets the web process read while a worker writes; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "customers.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "stations.hashers.StationPasswordHasher",  # station credentials only (see stations/hashers.py)
]
# django-axes first: it counts failed logins (portal and admin alike) and refuses a locked-out login before
# any password is checked; then Django's own backend (staff, admin) and allauth's (drivers sign in by e-mail).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: channel layer and Celery broker -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")

# A station stays in its connection's group for as long as its socket is open, often weeks: membership must
# not expire after the layers' default of one day, or commands stop reaching long-lived connections.
CHANNEL_GROUP_EXPIRY_S = 10 * 365 * 24 * 3600
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times reads out after 5 s by default, exactly while the layer blocks for 5 s
                # in BZPOPMIN, which dropped idle consumers; and its pool of 100 connections refused connect
                # bursts. Give the layer's own waits room and the pool enough connections.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30, "socket_connect_timeout": 5,
                           "max_connections": env.int("REDIS_MAX_CONNECTIONS", default=10_000)}],
                "prefix": env.str("CHANNEL_LAYER_PREFIX", default="evbackoffice"),
                "group_expiry": CHANNEL_GROUP_EXPIRY_S,
            },
        }
    }
else:
    # In-process only and meant for one process in development: its housekeeping scans every channel on each
    # receive, so it slows down with thousands of connections (use Redis for a real fleet).
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer",
                    "CONFIG": {"group_expiry": CHANNEL_GROUP_EXPIRY_S}},
    }

# Celery: a broker from CELERY_BROKER_URL (e.g. RabbitMQ), else REDIS_URL, else tasks run inline.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
# Installations (or test runs) that share one broker keep their tasks apart with a queue name of their own.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_ACKS_LATE = True  # a task whose worker dies is redelivered; tasks are idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=600)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=540)
CELERY_TIMEZONE = "UTC"

# --- Internationalisation and time -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"  # the database holds UTC; tariffs read the location's own zone
USE_I18N = True
USE_TZ = True

# --- Files ------------------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Private documents (invoice PDFs): never under a public URL; downloads go through permission-checked views.
PRIVATE_STORAGE_ROOT = env.path("PRIVATE_STORAGE_ROOT", default=VAR_DIR / "private")
# Invoice PDFs print in DejaVu Sans (Debian: fonts-dejavu-core); DejaVuSans.ttf and DejaVuSans-Bold.ttf are read here.
INVOICE_FONT_DIR = env.path("INVOICE_FONT_DIR", default="/usr/share/fonts/truetype/dejavu")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(PRIVATE_STORAGE_ROOT)}},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "servestatic.storage.CompressedManifestStaticFilesStorage"
    },
}
# ServeStatic (the ASGI-native successor of WhiteNoise) serves static files from this process without
# blocking the event loop. Without collectstatic (embedded default) it serves straight from the finders.
SERVESTATIC_USE_FINDERS = env.bool("SERVESTATIC_USE_FINDERS", default=DEBUG)

# --- REST API ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["evbackoffice.api_permissions.StaffModelPermissions"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "evbackoffice.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "evbackoffice.api.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "evbackoffice API",
    "DESCRIPTION": "Back office for EV charging networks: locations, charge points, customers, tokens.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status" with different choices; name each enum after its owner.
    "ENUM_NAME_OVERRIDES": {
        "ConnectorStatusEnum": "stations.models.ConnectorStatus",
        "CustomerStatusEnum": "customers.models.Customer.Status",
        "IdTokenStatusEnum": "customers.models.IdToken.Status",
    },
    # Swagger UI is served from our own static files, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- OCPP ---------------------------------------------------------------------------------------------
# Stations we do not know are refused; with this on they may connect and boot, and wait as Pending until
# an operator accepts them in the admin (onboarding).
OCPP_ACCEPT_UNKNOWN_STATIONS = env.bool("OCPP_ACCEPT_UNKNOWN_STATIONS", default=False)
OCPP_HEARTBEAT_INTERVAL_S = env.int("OCPP_HEARTBEAT_INTERVAL_S", default=300)
OCPP_RESPONSE_TIMEOUT_S = env.float("OCPP_RESPONSE_TIMEOUT_S", default=30)
OCPP_MAX_FRAME_CHARS = env.int("OCPP_MAX_FRAME_CHARS", default=256 * 1024)
OCPP_JOURNAL_DAYS = env.int("OCPP_JOURNAL_DAYS", default=30)
# Threads (each with its own database connection) that run the OCPP handlers' database work.
# SQLite has one writer at a time, so the embedded default uses one.
OCPP_DB_THREADS = env.int(
    "OCPP_DB_THREADS", default=1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 8
)
# Group commit of what stations report (stations/protocol/writer.py): how long a batch may wait for more
# messages before it commits, and at most how many messages it holds. Under load batches fill by themselves
# while the previous one commits, so the wait only matters at low load.
OCPP_WRITE_BATCH_WAIT_MS = env.float("OCPP_WRITE_BATCH_WAIT_MS", default=2)
OCPP_WRITE_BATCH_MAX = env.int("OCPP_WRITE_BATCH_MAX", default=500)
# PostgreSQL: the OCPP hot path's statements are prepared once per connection instead of parsed and planned
# on every execution. Off for a connection pooler in transaction mode that cannot carry prepared statements
# (PgBouncer before 1.21, or without max_prepared_statements).
OCPP_PREPARED_STATEMENTS = env.bool("OCPP_PREPARED_STATEMENTS", default=True)

# The web server process's garbage collector (evbackoffice/asgi.py, at ASGI lifespan startup): what startup
# made is frozen out of collections, and the youngest generation is collected every this many allocations
# instead of Python's 700, so that objects living for one batch's commit die young instead of being promoted
# into full collections, which stop every connection of the process at once. 0 keeps Python's defaults.
SERVER_GC_GEN0_THRESHOLD = env.int("SERVER_GC_GEN0_THRESHOLD", default=20_000)

# --- Operator -----------------------------------------------------------------------------------------
CURRENCIES = ("EUR", "CHF", "GBP", "DKK", "SEK", "NOK", "PLN", "CZK", "HUF", "USD")
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="EUR")
# Who we are towards roaming partners (OCPI): our tariffs' and charge records' country code and party id.
OCPI_COUNTRY_CODE = env.str("OCPI_COUNTRY_CODE", default="DE")
OCPI_PARTY_ID = env.str("OCPI_PARTY_ID", default="EVB")
LOYALTY_POINT_VALUE = env.str("LOYALTY_POINT_VALUE", default="0.01")  # credit per point, in the customer's currency
LOYALTY_POINTS_VALID_DAYS = env.int("LOYALTY_POINTS_VALID_DAYS", default=365)  # days until earned points lapse
# Invoicing (billing/invoicing): billing periods are calendar months/quarters in this zone; the VAT rate of
# membership fees; B2B cross-border reverse charge (off: every invoice charges the records' VAT); the mention
# printed for charge records whose tariff applies no VAT (EN 16931 category E).
BILLING_TIME_ZONE = env.str("BILLING_TIME_ZONE", default="Europe/Berlin")
BILLING_FEE_VAT_RATE = env.str("BILLING_FEE_VAT_RATE", default="19")
BILLING_REVERSE_CHARGE = env.bool("BILLING_REVERSE_CHARGE", default=False)
BILLING_VAT_EXEMPTION_MENTION = env.str("BILLING_VAT_EXEMPTION_MENTION", default="Exempt from VAT")
# Payments (billing/payments): Stripe keys only from the environment (never in code or logs); STRIPE_API_BASE
# points the official library at another base address (localstripe in tests). Failed invoice collections retry
# after these days (counted from the previous failure); after PAYMENT_MAX_FAILURES the customer's valid tokens
# are blocked until the invoice is paid (0: never block). Prepaid customers may start charging only while their
# balance is at least PREPAID_MINIMUM_BALANCE (in their currency).
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
STRIPE_TIMEOUT_S = env.float("STRIPE_TIMEOUT_S", default=30.0)
# Ad-hoc charging (billing/adhoc): the public page loads Stripe.js only with a publishable key. The hold is taken
# in the guest tariff's currency; a session that has not started this many minutes after payment is released.
STRIPE_PUBLISHABLE_KEY = env.str("STRIPE_PUBLISHABLE_KEY", default="")
ADHOC_HOLD_AMOUNT = env.str("ADHOC_HOLD_AMOUNT", default="50.00")
ADHOC_START_TIMEOUT_MIN = env.int("ADHOC_START_TIMEOUT_MIN", default=10)
ADHOC_GUEST_CUSTOMER_NUMBER = env.str("ADHOC_GUEST_CUSTOMER_NUMBER", default="ADHOC-GUESTS")
ADHOC_PUBLIC_BASE_URL = env.str("ADHOC_PUBLIC_BASE_URL", default="")
PAYMENT_RETRY_DAYS = env.list("PAYMENT_RETRY_DAYS", cast=int, default=[1, 3, 7])
PAYMENT_MAX_FAILURES = env.int("PAYMENT_MAX_FAILURES", default=3)
PREPAID_MINIMUM_BALANCE = env.str("PREPAID_MINIMUM_BALANCE", default="5.00")

# --- Logging ------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # WeasyPrint logs progress steps at INFO and, without HarfBuzz-subset, a warning per font of every PDF;
        # fontTools logs glyph lists. Noise that also costs measurable time per invoice rendered.
        "weasyprint": {"level": "ERROR"}, "fontTools": {"level": "WARNING"}, "factur-x": {"level": "WARNING"},
        # The stripe library logs every request at INFO (URLs and ids, never keys): noise at that level.
        "stripe": {"level": "WARNING"},
    },
}

# --- Production hardening: on whenever DEBUG=false --------------------------------------------------
if not DEBUG:
    # TLS ends at this server or at a proxy in front of it. Behind a proxy, set SECURE_PROXY_SSL_HEADER
    # so Django knows the original scheme; the proxy may also do the HTTP->HTTPS redirect itself.
    if env.bool("BEHIND_TLS_PROXY", default=False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    SESSION_COOKIE_HTTPONLY = True
    X_FRAME_OPTIONS = "DENY"
    SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=[])

# Embedded default: every e-mail (sign-up verification, password reset, receipts) is written as a file into
# var/mail/ so that `make run` users can open it; production sends by SMTP (EMAIL_URL or the EMAIL_* variables).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends." + ("filebased.EmailBackend" if DEBUG else "smtp.EmailBackend"),
)
EMAIL_FILE_PATH = env.path("EMAIL_FILE_PATH", default=VAR_DIR / "mail")
EMAIL_URL = env.str("EMAIL_URL", default="")
if EMAIL_URL:
    globals().update(env.email_url("EMAIL_URL"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="evbackoffice <noreply@localhost>")

# --- Driver portal: accounts (django-allauth) and login throttling (django-axes) -------------------------------
# Drivers sign up and sign in with their e-mail address, which they must verify before they can sign in.
# Staff keep their usernames for the admin. The portal lives under /portal/, allauth's pages under /accounts/.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = env.str("ACCOUNT_EMAIL_SUBJECT_PREFIX", default="[evbackoffice] ")
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# A driver who closes the browser stays signed in for two weeks.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=14 * 24 * 3600)

# After AXES_FAILURE_LIMIT failed logins for one account from one address, that pair is locked out for
# AXES_COOLOFF_HOURS; a success resets the count. Behind a proxy, AXES_IPWARE_META_PRECEDENCE_ORDER tells axes
# which header carries the client address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
# allauth authenticates with `email=`, the admin with `username=`: one callable names the account either way
# (lower-cased, so that "Anna@Example.com" and "anna@example.com" share one counter).
AXES_USERNAME_CALLABLE = "customers.auth.axes_username"
# The lockout answer: a portal page saying when to try again (HTTP 429), not a bare text.
AXES_LOCKOUT_TEMPLATE = "portal/account/lockout.html"
# django-axes alone throttles password logins (per account and address, reset by a success). allauth's own
# counter would answer the attempt after the limit with a form error before axes sees it, and keep counting
# after a success; its other rate limits (sign-up, password reset mails, ...) stay on.
ACCOUNT_RATE_LIMITS = {"login_failed": None}

# Invoices are kept this many years after the end of the year they were issued in (German HGB §257, AO §147:
# ten years for accounting vouchers). An erased account's invoices stay until then; see customers/privacy.py.
BILLING_RETENTION_YEARS = env.int("BILLING_RETENTION_YEARS", default=10)

# A remote start the station accepted becomes "not plugged in" when no session starts within this time (most
# stations' own ConnectionTimeOut is 60-180 s).
PORTAL_REMOTE_START_TIMEOUT_S = env.int("PORTAL_REMOTE_START_TIMEOUT_S", default=180)

# Stripe.js is loaded from Stripe (PCI: card fields must come from Stripe itself); tests point it at
# localstripe's copy.
STRIPE_JS_URL = env.str("STRIPE_JS_URL", default="https://js.stripe.com/v3/")

# Find a charger: map tiles from a configurable tile server (OpenStreetMap's by default; operators with traffic
# should use their own or a commercial one). When tiles cannot load, the list view still works.
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str(
    "MAP_TILE_ATTRIBUTION", default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>'
)

# --- Staff security (staff/): roles, two-factor sign-in, session expiry, audit log ------------------------------
# Staff verify a TOTP code (django-otp) after their password before they may use the admin, the staff pages or
# the session-authenticated API; the first sign-in walks them through setting up an authenticator app. Token-
# authenticated API clients are machines and never asked. Switch off only for a closed development setup.
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=True)
# A staff session ends after this many idle minutes, and in any case this many hours after sign-in. Drivers keep
# their portal sessions (SESSION_COOKIE_AGE).
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
STAFF_SESSION_MAX_HOURS = env.int("STAFF_SESSION_MAX_HOURS", default=12)
# The name authenticator apps show next to the account.
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="evbackoffice")
# The admin's device pages never show secret keys or QR codes (enrolment shows them once, to their owner).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
TEMPLATES[0]["OPTIONS"]["context_processors"].append("staff.context_processors.security")
