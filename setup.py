"""Guanxi — an open-source, self-hosted CRM for small and medium companies."""
from setuptools import find_packages, setup

BUNDLED_PLUGINS = [
    "leads = plugins.leads.plugin",
    "opportunities = plugins.opportunities.plugin",
    "projects = plugins.projects.plugin",
    "pool = plugins.pool.plugin",
    "quotes = plugins.quotes.plugin",
    "contracts = plugins.contracts.plugin",
    "orders = plugins.orders.plugin",
    "payments = plugins.payments.plugin",
    "invoices = plugins.invoices.plugin",
]

setup(
    name="guanxi",
    version="0.1.0",
    description="Open-source, self-hosted CRM (客户关系管理系统) for small and medium companies",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="AGPL-3.0-or-later",
    python_requires=">=3.11",
    packages=find_packages(include=["core", "core.*", "plugins", "plugins.*", "config", "config.*"]),
    py_modules=["hooks"],
    include_package_data=True,
    package_data={
        "core": [
            "templates/**/*", "static/**/*", "translations/*/LC_MESSAGES/*",
            "migrations/*", "migrations/versions/*", "testing/*",
        ],
        "plugins": ["*/templates/**/*", "*/static/**/*", "*/translations/*/LC_MESSAGES/*", "*/migrations/*", "*/migrations/versions/*"],
        "config": ["*.py", "*.toml"],
    },
    install_requires=[
        "Flask>=3.0,<4",
        "Flask-Login>=0.6.3,<0.7",
        "Flask-WTF>=1.2,<2",
        "Flask-Babel>=4,<5",
        "SQLAlchemy>=2.0.30,<2.1",
        "alembic>=1.13,<2",
        "marshmallow>=3.21,<4",
        "pluggy>=1.5,<2",
        "blinker>=1.8,<2",
        "huey>=2.5,<3",
        "redis>=5,<7",
        "argon2-cffi>=23,<26",
        "cryptography>=42,<49",
        "apispec>=6.6,<7",
        "click>=8.1,<9",
        "Jinja2>=3.1.6,<4",
        "pypinyin>=0.51,<1",
        "openpyxl>=3.1,<4",  # XLSX import (read-only) and export (write-only)
        "defusedxml>=0.7,<0.8",  # openpyxl parses workbook XML through it (no XXE, no entity bombs)
        "weasyprint>=66,<71",  # PDF documents (core.pdf); fonts come from the system (fonts-noto-cjk)
    ],
    extras_require={
        "postgres": ["psycopg[binary]>=3.1,<4"],
        "mysql": ["PyMySQL>=1.1,<2"],
        "server": ["gunicorn>=22,<24"],
        "test": [
            "pytest>=8,<10",
            "pytest-timeout>=2.3,<3",
            "html5lib>=1.1,<2",
            "openapi-spec-validator>=0.7,<0.9",
            "psycopg[binary]>=3.1,<4",
            "PyMySQL>=1.1,<2",
            "hypothesis>=6.100,<7",  # property tests (money, the quote-to-cash chain)
            "aiosmtpd>=1.4,<2",  # the smtp_server fixture (a real SMTP server on a free port)
            # tests/e2e drive Debian's chromium (installed by .ci/run); never `playwright install`
            "playwright>=1.50,<2",
        ],
    },
    entry_points={
        "console_scripts": ["guanxi = core.cli:main"],
        "guanxi.plugins": BUNDLED_PLUGINS,
        "pytest11": ["guanxi = core.testing.pytest_plugin"],
    },
    classifiers=[
        "Framework :: Flask",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)",
    ],
)
