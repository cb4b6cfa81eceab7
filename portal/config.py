"""Configuration classes, chosen by the STADTPORTAL_ENV environment variable.

Every setting comes from the environment with a default that is safe for the embedded demo; production
refuses to start with a default or missing secret.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"
DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'stadtportal.sqlite'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    # Migrations (flask db upgrade) connect with this URL when set: the role that owns the schema. The app itself
    # connects as DATABASE_URL's role, which owns nothing (see `flask dbroles setup`).
    DATABASE_MIGRATE_URL = os.environ.get("DATABASE_MIGRATE_URL", "")
    # A pooled connection idle longer than this is pinged before use (portal.connections); 0 pings every time.
    DB_PING_AFTER_IDLE_SECONDS = float(os.environ.get("DB_PING_AFTER_IDLE_SECONDS", "2"))
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Stadtportal <noreply@stadtportal.example>")

    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))  # seconds; far below the 10-minute delivery claim
    MAIL_READY_TIMEOUT = float(os.environ.get("MAIL_READY_TIMEOUT", "2"))  # /readyz's wait for the relay's greeting
    ACCESSIBILITY_CONTACT = os.environ.get("ACCESSIBILITY_CONTACT", "barrierefreiheit@stadt.example")

    # Said explicitly: Flask-Limiter's one limiter object otherwise keeps the last app's choice (config.setdefault),
    # so an app that switched limits off would switch them off for every app created after it in the process.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    # Redis down must not take bookings down: limits fall back to each worker's memory (logged and counted, see
    # portal.extensions._Limiter) until Redis answers again, and /readyz says that Redis is unreachable.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Seconds a page that is the same for every signed-out visitor (home, legal pages) is reused per worker.
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))
    # Reverse proxies in front of the app (nginx: 1). Without this, rate limits and sign-in locks per IP would
    # all see the proxy's address; with it, X-Forwarded-For/-Proto/-Host from that many hops are trusted.
    PROXY_FIX_HOPS = int(os.environ.get("PROXY_FIX_HOPS", "0"))

    # Ed25519 key for signed audit checkpoints: kept outside the database on purpose.
    AUDIT_SIGNING_KEY_FILE = os.environ.get("AUDIT_SIGNING_KEY_FILE", str(INSTANCE_DIR / "audit-signing-key.pem"))
    # Where each signed checkpoint is copied outside the database (portal.audit.witness): a directory the database
    # role cannot reach; empty means `audit-witness/` beside AUDIT_SIGNING_KEY_FILE, "off" switches it off.
    AUDIT_WITNESS_DIR = os.environ.get("AUDIT_WITNESS_DIR", "")
    # A syslog server or SIEM that gets a line per checkpoint: udp://host:514, tcp://host:601, unix:///dev/log.
    AUDIT_WITNESS_SYSLOG = os.environ.get("AUDIT_WITNESS_SYSLOG", "")
    # More witness targets: "module:factory" paths; factory(config) returns a portal.audit.witness.Witness.
    AUDIT_WITNESS_EXTRA = _list("AUDIT_WITNESS_EXTRA", [])
    # Minutes between checkpoints signed by the worker (job audit.checkpoint).
    AUDIT_CHECKPOINT_MINUTES = float(os.environ.get("AUDIT_CHECKPOINT_MINUTES", "5"))
    # Public key(s) (PEM, current and retired, from `flask audit public-key`) put into citizens' proof downloads.
    AUDIT_PUBLIC_KEY_FILE = os.environ.get("AUDIT_PUBLIC_KEY_FILE", "")
    # None: audit events are chained in the use case's transaction on SQLite, by the sequencer after the commit
    # on PostgreSQL (portal.audit.sequencer). True/False forces one way (tests try the sequencer on SQLite).
    AUDIT_SEQUENCE_AT_RECORD: bool | None = None
    # After a commit that queued audit events: "thread" (the process's sequencer thread chains them, the request
    # does not wait), "inline" (chained before commit() returns) or "worker" (`flask worker` polls the queue
    # every AUDIT_SEQUENCER_POLL_SECONDS and chains it; the web processes spend nothing on it).
    AUDIT_SEQUENCE_AFTER_COMMIT = os.environ.get("AUDIT_SEQUENCE_AFTER_COMMIT", "thread")
    AUDIT_SEQUENCER_POLL_SECONDS = float(os.environ.get("AUDIT_SEQUENCER_POLL_SECONDS", "0.05"))

    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
    OIDC_PROVIDER_NAME = os.environ.get("OIDC_PROVIDER_NAME", "BundID")
    # The claim carrying the assurance level ("Vertrauensniveau"); BundID via Keycloak sends it as acr.
    OIDC_ASSURANCE_CLAIM = os.environ.get("OIDC_ASSURANCE_CLAIM", "acr")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ["de", "en"]

    # Session lifetimes (portal.accounts.sessions). Nobody's sign-in lasts longer than SESSION_ABSOLUTE_HOURS
    # (citizens); anyone holding a role (staff, platform admins) is signed out after STAFF_SESSION_IDLE_MINUTES
    # without a request and STAFF_SESSION_ABSOLUTE_HOURS after signing in, however active.
    SESSION_ABSOLUTE_HOURS = float(os.environ.get("SESSION_ABSOLUTE_HOURS", "24"))
    STAFF_SESSION_IDLE_MINUTES = float(os.environ.get("STAFF_SESSION_IDLE_MINUTES", "30"))
    STAFF_SESSION_ABSOLUTE_HOURS = float(os.environ.get("STAFF_SESSION_ABSOLUTE_HOURS", "12"))
    # gunicorn's worker count (gunicorn.conf.py exports the number it runs with): production refuses settings
    # that are only right for one process (in-memory rate limits, per-process metrics) when it is above 1.
    WEB_CONCURRENCY = int(os.environ.get("WEB_CONCURRENCY", "1"))
    # GET /metrics (Prometheus). With several workers it needs PROMETHEUS_MULTIPROC_DIR (see gunicorn.conf.py).
    METRICS_ENABLED = _bool("METRICS_ENABLED", True)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The cookie is sent only when the session changes, not with every answer: a sign-in lasts a fixed time anyway
    # (SESSION_ABSOLUTE_HOURS), and an asset's answer still in flight must not put back a cookie the page has just
    # replaced (a flash, a sign-out).
    SESSION_REFRESH_EACH_REQUEST = False
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = None

    # Sign-in throttling: after SLOW failures each attempt waits, after LOCK the key is locked.
    LOGIN_SLOW_AFTER = 3
    LOGIN_SLOW_SECONDS = 0.5  # per failure beyond LOGIN_SLOW_AFTER ...
    LOGIN_SLOW_MAX_SECONDS = 2.0  # ... capped here, then the lock takes over
    LOGIN_LOCK_AFTER = int(os.environ.get("LOGIN_LOCK_AFTER", "5"))
    LOGIN_IP_LOCK_AFTER = int(os.environ.get("LOGIN_IP_LOCK_AFTER", "20"))
    LOGIN_LOCK_MINUTES = 15

    EMAIL_TOKEN_HOURS = 24
    PASSWORD_RESET_MINUTES = 60

    API_TITLE = "Stadtportal API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"

    CITY_NAME = os.environ.get("CITY_NAME", "Stadt Musterstadt")
    # portal.pdf: where KERN's Fira Sans is kept as TrueType after its one-time conversion from WOFF2.
    PDF_FONT_DIR = os.environ.get("PDF_FONT_DIR", str(INSTANCE_DIR / "pdf-fonts"))

    # --- files (portal.files) ---
    # Whole-request cap: Werkzeug refuses larger bodies with 413 before parsing them. Per-use limits are smaller.
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(30 * 1024 * 1024)))
    # Only multipart bodies carry files, and Werkzeug spools those to disk. Any other body (urlencoded form, JSON)
    # is read into memory whole, and parsing multiplies it: those get this much smaller cap.
    MAX_CONTENT_LENGTH_NO_FILES = int(os.environ.get("MAX_CONTENT_LENGTH_NO_FILES", str(2 * 1024 * 1024)))
    # Werkzeug 3, multipart: each text field is held in memory (cap per field), and the number of parts is capped.
    MAX_FORM_MEMORY_SIZE = int(os.environ.get("MAX_FORM_MEMORY_SIZE", str(500 * 1024)))
    MAX_FORM_PARTS = int(os.environ.get("MAX_FORM_PARTS", "1000"))
    FILE_STORAGE = os.environ.get("FILE_STORAGE", "local")  # local or s3
    FILE_STORAGE_PATH = os.environ.get("FILE_STORAGE_PATH", str(INSTANCE_DIR / "files"))
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL", "")
    S3_BUCKET = os.environ.get("S3_BUCKET", "")
    S3_ACCESS_KEY_ID = os.environ.get("S3_ACCESS_KEY_ID", "")
    S3_SECRET_ACCESS_KEY = os.environ.get("S3_SECRET_ACCESS_KEY", "")
    S3_REGION = os.environ.get("S3_REGION", "eu-central-1")
    # --- end files ---

    # --- maps (portal.maps) ---
    # No tiles unless configured: every tile request tells the tile server who looks at which place, so a city
    # chooses its tile server on purpose (its own, or a provider under a processing agreement). Without tiles
    # the maps draw the city's street list. A path on this site ("/tiles/{z}/{x}/{y}.png") needs no CSP change.
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "")  # e.g. https://tiles.stadt.example/{z}/{x}/{y}.png
    MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "")  # HTML, shown in the map's corner
    MAP_CENTER = os.environ.get("MAP_CENTER", "51.0504,13.7373")  # lat,lon where a map opens
    MAP_ZOOM = int(os.environ.get("MAP_ZOOM", "15"))
    MAP_MAX_ZOOM = int(os.environ.get("MAP_MAX_ZOOM", "19"))
    # The city's bounding box as south,west,north,east: places outside it are refused.
    MAP_BOUNDS = os.environ.get("MAP_BOUNDS", "50.97,13.60,51.13,13.90")
    MAP_MAX_VERTICES = int(os.environ.get("MAP_MAX_VERTICES", "200"))  # corners of a drawn area
    MAP_GEOCODE_RATE_LIMIT = os.environ.get("MAP_GEOCODE_RATE_LIMIT", "120 per minute")  # per client address
    # --- end maps ---

    # The services this city runs; the core imports them by name (see portal.create_app).
    SERVICES = _list(
        "STADTPORTAL_SERVICES",
        ["appointments", "payments", "participation", "dataaccess", "permits", "controlling", "building"],
    )
    DEMO = False
    TESTING = False


class DevelopmentConfig(Config):
    DEBUG = False
    DEMO = True
    # The embedded demo shows OpenStreetMap's tiles (fine for development under OSM's tile usage policy).
    MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = os.environ.get(
        "MAP_TILE_ATTRIBUTION", '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>-Mitwirkende'
    )


class TestConfig(Config):
    TESTING = True
    DEMO = True
    MAP_TILE_URL = ""  # tests never call a third-party tile server
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    LOGIN_SLOW_SECONDS = 0.0
    AUDIT_SEQUENCE_AFTER_COMMIT = "inline"  # what a use case wrote is on the audit chain when it returns
    # Uploads made by tests never land in the real instance folder (tests may point it at their tmp_path).
    FILE_STORAGE_PATH = os.environ.get("TEST_FILE_STORAGE_PATH", f"/tmp/stadtportal-test-files-{os.getpid()}")  # noqa: S108


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS = {"development": DevelopmentConfig, "test": TestConfig, "production": ProductionConfig}


def config_for(env: str | None) -> type[Config]:
    name = (env or os.environ.get("STADTPORTAL_ENV") or "development").lower()
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"STADTPORTAL_ENV must be one of {sorted(CONFIGS)}, not {name!r}") from None


MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12
MIN_SECRET_BITS = 100


def secret_strength_bits(secret: str) -> float:
    """An estimate of the secret's entropy: its length times the Shannon entropy of its characters.

    It cannot prove a value random (a keyboard row scores well), but it refuses what people type when they
    make a key up: one character repeated, a word repeated, a short alphabet. 64 hex digits from
    `secrets.token_hex(32)` score about 240 bits, `secrets.token_urlsafe(32)` about 210, 40 × "a" scores 0.
    """
    if not secret:
        return 0.0
    counts = Counter(secret)
    per_char = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    return per_char * len(secret)


def production_problems(config: dict) -> list[str]:
    """What makes this configuration unsafe to run in production; empty when nothing does."""
    problems = []
    secret = str(config.get("SECRET_KEY") or "")
    if (
        secret == DEV_SECRET_KEY
        or len(secret) < MIN_SECRET_LENGTH
        or len(set(secret)) < MIN_SECRET_DISTINCT
        or secret_strength_bits(secret) < MIN_SECRET_BITS
    ):
        problems.append(
            f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters with at least "
            f"{MIN_SECRET_DISTINCT} different ones and about {MIN_SECRET_BITS} bits of entropy "
            '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))").'
        )
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL.")
    workers = int(config.get("WEB_CONCURRENCY") or 1)
    if workers > 1:
        limits_on = config.get("RATELIMIT_ENABLED", True)
        if limits_on and str(config.get("RATELIMIT_STORAGE_URI", "memory://")).startswith("memory://"):
            problems.append(
                f"RATELIMIT_STORAGE_URI must name a shared store (redis://...) with {workers} workers: "
                "in memory, every worker counts each limit on its own."
            )
        if config.get("METRICS_ENABLED", True):
            directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
            if not directory:
                problems.append(
                    f"PROMETHEUS_MULTIPROC_DIR must be set with {workers} workers and METRICS_ENABLED: otherwise "
                    "each scrape of /metrics shows one worker's numbers (or set METRICS_ENABLED=false)."
                )
            elif not (os.path.isdir(directory) and os.access(directory, os.W_OK)):
                problems.append(f"PROMETHEUS_MULTIPROC_DIR={directory} must be a writable directory.")
    return problems


def check_production(config: dict) -> None:
    """Refuse to run production with a secret anybody could guess or settings only right for one process."""
    problems = production_problems(config)
    if problems:
        raise RuntimeError("Production cannot start:\n- " + "\n- ".join(problems))
