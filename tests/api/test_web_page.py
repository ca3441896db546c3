"""The web page's serving (no browser: tests/web/ drives it in Chromium)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from awaaz.api.app import create_app
from awaaz.api.routes.web import PAGE_DIR
from awaaz.config import Settings
from awaaz.models.manager import ModelManager
from tests.fakes import FakeEngine

REFERENCE = re.compile(r"""(?:src|href)="([^"]+)"|from "([^"]+)"|url\("([^"]+)"\)|addModule\("([^"]+)"\)""")


def _client(tmp_path: Path, **settings: object) -> TestClient:
    config = Settings.of(model_dir=tmp_path / "models", data_dir=tmp_path / "data", **settings)
    models = ModelManager(config, loader=lambda _: FakeEngine())
    return TestClient(create_app(config, models, preload=False))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with _client(tmp_path, max_upload_mb=3.0, max_job_upload_mb=40.0) as http:
        yield http


def test_the_page_is_served_at_the_root_with_a_strict_content_security_policy(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'lang="hi"' in response.text


def test_its_modules_are_served_as_javascript(client: TestClient) -> None:
    for name in ("app.js", "api.js", "recorder.js", "pcm-worklet.js"):
        response = client.get(f"/web/{name}")
        assert response.status_code == 200
        assert "javascript" in response.headers["content-type"]


def test_its_config_tells_the_page_the_servers_limits(client: TestClient) -> None:
    config = client.get("/web/config").json()
    assert config["max_upload_bytes"] == 3 * 1024 * 1024
    assert config["max_job_upload_bytes"] == 40 * 1024 * 1024
    assert config["cue_line_chars"] == 42
    assert config["language"] == "hi"


def test_the_setting_switches_the_page_off_and_leaves_the_api(tmp_path: Path) -> None:
    with _client(tmp_path, web_ui=False) as client:
        for path in ("/", "/web/app.js", "/web/config"):
            assert client.get(path).status_code == 404, path
        assert client.get("/health").status_code == 200


def test_every_file_the_page_references_is_local_and_exists() -> None:
    """Nothing may come from the internet at run time: every src, href, import and url() is a file here."""
    checked = 0
    for source in PAGE_DIR.rglob("*"):
        if source.suffix not in {".html", ".js", ".css"}:
            continue
        for match in REFERENCE.finditer(source.read_text(encoding="utf-8")):
            target = next(g for g in match.groups() if g)
            assert not re.match(r"^(https?:)?//", target), f"{source.name} loads {target} from the internet"
            if target.startswith(("/docs", "#")):
                continue
            local = PAGE_DIR / target.removeprefix("/web/") if target.startswith("/web/") else None
            local = local or (source.parent / target)
            assert local.resolve().is_file(), f"{source.name} references {target}, which does not exist"
            checked += 1
    assert checked >= 12
