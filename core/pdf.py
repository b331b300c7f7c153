"""PDF documents (quotations, contracts, invoices) with WeasyPrint.

Templates extend ``core/pdf/document.html`` (the company letterhead from /admin/company, CSS with the Noto
CJK fonts that fonts-noto-cjk installs, so Chinese is drawn with embedded glyphs, never boxes). Rendering
fetches nothing from the network: the URL fetcher serves only ``data:`` URIs and files inside the app's own
static folders and refuses everything else.
"""
from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app, render_template
from flask_babel import force_locale
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger("guanxi.pdf")

LANGUAGES = ("zh_CN", "en")


class RefusedURL(ValueError):
    """A PDF template asked for a resource outside the app's static files."""


def render_pdf(template_name: str, *, language: str, **context) -> bytes:
    """Render ``template_name`` in ``language`` ("zh_CN" or "en") to PDF bytes.

    The template gets ``company`` (``core.admin.company.CompanySettings``), ``language`` and
    ``static_file(filename, blueprint=None)`` (a file URI of an app static file, for images) besides
    ``context``.
    """
    from core.admin.company import company_settings
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    roots = static_roots(current_app)
    with force_locale(language):
        html = render_template(template_name, company=company_settings(), language=language,
                               static_file=lambda filename, blueprint=None: _static_uri(filename, blueprint),
                               **context)
    document = HTML(string=html, base_url=roots[0].as_uri() + "/", url_fetcher=LocalFetcher(roots))
    return document.write_pdf()


def static_roots(app) -> list[Path]:
    """The static folders a PDF may read: the app's and every blueprint's (plugins included)."""
    folders = [app.static_folder] + [bp.static_folder for bp in app.blueprints.values()]
    roots = []
    for folder in folders:
        if folder and Path(folder).is_dir():
            resolved = Path(folder).resolve()
            if resolved not in roots:
                roots.append(resolved)
    return roots or [Path(app.root_path).resolve() / "static"]


def _static_uri(filename: str, blueprint: str | None) -> str:
    owner = current_app.blueprints.get(blueprint) if blueprint else current_app
    folder = getattr(owner, "static_folder", None)
    if not folder:
        raise RefusedURL(f"no static folder for {blueprint!r}")
    return (Path(folder).resolve() / filename).as_uri()


class LocalFetcher(URLFetcher):
    """WeasyPrint's fetcher limited to ``data:`` URIs and files under ``roots`` (no network, no other files)."""

    def __init__(self, roots):
        super().__init__(allowed_protocols=("data", "file"), allow_redirects=False, timeout=1)
        self.roots = [Path(root).resolve() for root in roots]

    def fetch(self, url, headers=None):
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path)).resolve()
            if any(path.is_relative_to(root) for root in self.roots) and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        log.warning("PDF rendering refused to fetch %s", url[:200])
        raise RefusedURL(f"refused to fetch {url[:200]}")


__all__ = ["LANGUAGES", "LocalFetcher", "RefusedURL", "render_pdf", "static_roots"]
