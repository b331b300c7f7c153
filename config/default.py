"""Default settings. Every name can be overridden by an environment variable ``GUANXI_<NAME>``.

Secrets and the database URL come from the environment (or the instance folder), never from this file.
"""
# Where the SQLite file, uploads, backups, the job queue file and the generated secret key live.
INSTANCE_PATH = None  # default: ./instance next to the current working directory
DATABASE_URL = None  # default: sqlite:///<INSTANCE_PATH>/guanxi.db
SECRET_KEY = None  # default: generated once and kept in <INSTANCE_PATH>/secret_key

# Modules: the configured set is intersected with the licence. "*" = every installed module.
MODULES = "*"
LICENSE_FILE = None
# Ed25519 public keys (base64, raw 32 bytes) that may sign licences; comma-separated in the environment.
VENDOR_PUBLIC_KEYS = ""

# Languages offered; the user's choice wins, then the browser's.
LANGUAGES = "zh_CN,en"
DEFAULT_LANGUAGE = "zh_CN"
DEFAULT_CURRENCY = "CNY"
TIMEZONE = "Asia/Shanghai"

# Sessions: idle and absolute lifetime in minutes.
SESSION_IDLE_MINUTES = 120
SESSION_ABSOLUTE_MINUTES = 60 * 24 * 7
SESSION_COOKIE_SECURE = False  # set True behind HTTPS (production example does)

# Login throttling: failures before the progressive delay starts, and its ceiling in seconds.
LOGIN_FREE_ATTEMPTS = 3
LOGIN_MAX_DELAY_SECONDS = 900

# Uploads
MAX_UPLOAD_MB = 20
UPLOAD_ALLOWED_TYPES = (
    "application/pdf,image/png,image/jpeg,image/gif,text/plain,text/csv,application/zip,"
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document,"
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,"
    "application/msword,application/vnd.ms-excel"
)

# Lists
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
COUNT_CAP = 1000  # "1,000+": the capped count is most of a list page's database time (bench)

# Job queue: "sqlite" (embedded, default), "redis" or "memory" (tests that do not need a worker).
QUEUE = "sqlite"
REDIS_URL = "redis://127.0.0.1:6379/0"

# Mail
MAIL_SERVER = "127.0.0.1"
MAIL_PORT = 25
MAIL_USERNAME = ""
MAIL_PASSWORD = ""
MAIL_USE_TLS = False
MAIL_FROM = "guanxi@localhost"

# Public base URL used in e-mailed links (never taken from the Host header).
BASE_URL = "http://127.0.0.1:5000"

# Backups
BACKUP_DIR = None  # default: <INSTANCE_PATH>/backups
BACKUP_KEEP = 7

# Import and export (core.imports, core.exports)
IMPORT_MAX_ROWS = 1_000_000  # data rows per file
IMPORT_MAX_CELL = 32 * 1024  # characters per cell
IMPORT_KEEP_DAYS = 30  # uploaded files and error reports are removed after this many days
EXPORT_JOB_THRESHOLD = 5000  # larger XLSX exports run as a background job
EXPORT_MAX_ROWS = 1_000_000  # an export job refuses more rows than this
EXPORT_KEEP_DAYS = 7  # finished export files are removed after this many days
