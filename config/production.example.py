"""Example production settings — copy the values you need into environment variables.

Guanxi reads every setting from ``GUANXI_<NAME>``; this file documents a typical deployment:

    # PostgreSQL (or MariaDB: mysql+pymysql://guanxi:secret@db/guanxi?charset=utf8mb4)
    export GUANXI_DATABASE_URL=postgresql+psycopg://guanxi:secret@127.0.0.1/guanxi
    export GUANXI_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')
    export GUANXI_INSTANCE_PATH=/var/lib/guanxi          # uploads, backups
    export GUANXI_QUEUE=redis                             # jobs go through Redis ...
    export GUANXI_REDIS_URL=redis://127.0.0.1:6379/0      # ... so several workers can share them
    export GUANXI_SESSION_COOKIE_SECURE=1                 # behind HTTPS
    export GUANXI_BASE_URL=https://crm.example.com
    export GUANXI_MAIL_SERVER=smtp.example.com GUANXI_MAIL_PORT=587 GUANXI_MAIL_USE_TLS=1
    export GUANXI_LICENSE_FILE=/etc/guanxi/license.json   # optional; without it every module is allowed
    export GUANXI_VENDOR_PUBLIC_KEYS=<base64 Ed25519 public key>

    guanxi init                      # migrate, seed roles, create the admin (password from GUANXI_ADMIN_PASSWORD or a prompt)
    gunicorn -w 4 -b 127.0.0.1:8000 'core.app:create_app()'   # behind nginx/caddy
    guanxi worker                    # one or more job workers (Redis)
"""
SESSION_COOKIE_SECURE = True
QUEUE = "redis"
