"""A client of a running server's job API: what ``awaaz transcribe --server URL`` uses.

Uploads stream from the file; progress is polled; the result is fetched in the format asked for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from awaaz.errors import AwaazError, ErrorKind

POLL_S = 1.0


class ServerError(AwaazError):
    """The server refused the request or a job failed; the message is the server's."""

    kind = ErrorKind.BAD_INPUT
    code = "server_error"


class JobClient:
    """Submit files to ``base_url``'s ``/v1/jobs`` and wait for their transcripts."""

    def __init__(self, base_url: str, *, timeout_s: float = 60.0, api_key: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, headers=headers)

    def _checked(self, response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:500]
            raise ServerError(f"{response.request.url}: {response.status_code} {message}")
        return response

    def submit(self, path: Path, *, model: str | None = None, language: str = "hi") -> dict[str, Any]:
        """Upload ``path`` as a job; the job as the server shows it."""
        data = {"language": language, **({"model": model} if model else {})}
        with path.open("rb") as audio:
            response = self.http.post("/v1/jobs", files={"file": (path.name, audio)}, data=data)
        job: dict[str, Any] = self._checked(response).json()
        return job

    def wait(
        self, job_id: str, on_progress: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """Poll the job until it ends; :class:`ServerError` when it failed or was cancelled."""
        while True:
            job: dict[str, Any] = self._checked(self.http.get(f"/v1/jobs/{job_id}")).json()
            if on_progress is not None:
                on_progress(job)
            if job["status"] == "done":
                return job
            if job["status"] in ("failed", "cancelled"):
                error = (job.get("error") or {}).get("message", job["status"])
                raise ServerError(f"job {job_id} {job['status']}: {error}")
            time.sleep(POLL_S)

    def result(self, job_id: str, response_format: str, granularities: tuple[str, ...] = ()) -> str:
        """The finished job's transcript in ``response_format`` (JSON formats as the server's JSON text)."""
        params: dict[str, Any] = {"format": response_format}
        if granularities:
            params["timestamp_granularities[]"] = list(granularities)
        return self._checked(self.http.get(f"/v1/jobs/{job_id}/result", params=params)).text

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()
