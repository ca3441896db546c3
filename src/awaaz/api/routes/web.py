"""The web page at ``/`` (README "Web page"): plain HTML, CSS and JavaScript modules from ``api/web/``, with
no build step and nothing fetched from the internet. ``AWAAZ_WEB_UI=false`` leaves the API alone.

The page speaks only the public API (``/v1/audio/transcriptions``, ``/v1/jobs``, ``/v1/stream``); the one
route of its own, ``/web/config``, tells it the server's limits so it can refuse a file before uploading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from awaaz.api.deps import ConfigDep

PAGE_DIR = Path(__file__).resolve().parents[1] / "web"

# Everything the page loads comes from this server; audio plays from blob: URLs of the user's own file.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; img-src 'self' data:; "
        "media-src 'self' blob:; connect-src 'self' ws: wss:; worker-src 'self'; object-src 'none'; "
        "base-uri 'none'; frame-ancestors 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=()",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
async def page() -> FileResponse:
    """The page itself."""
    return FileResponse(PAGE_DIR / "index.html", headers=SECURITY_HEADERS | {"Cache-Control": "no-cache"})


@router.get("/web/config")
async def page_config(settings: ConfigDep) -> dict[str, Any]:
    """The limits the page checks before it sends anything, and how it should lay out subtitles."""
    return {
        "max_upload_bytes": settings.limits.max_upload_bytes,
        "max_sync_duration_s": settings.limits.max_sync_duration_s,
        "max_job_upload_bytes": settings.jobs.max_job_upload_bytes,
        "max_job_duration_s": settings.jobs.max_job_duration_s,
        "cue_line_chars": settings.longform.cues.line_chars,
        "cue_lines": settings.longform.cues.lines,
        "language": "hi",
        "docs": settings.access.docs,
    }


def install_page(app: FastAPI) -> None:
    """Serve the page at ``/`` and its files under ``/web/``."""
    app.include_router(router)
    app.mount("/web", StaticFiles(directory=PAGE_DIR), name="web")
