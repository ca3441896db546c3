"""``awaaz models pull``: fetch Whisper CTranslate2 models from the Hugging Face Hub and register them.

Downloads go through ``huggingface_hub.snapshot_download`` into ``<model_dir>/hub/<owner>--<name>``, only the
files faster-whisper needs. ``HF_ENDPOINT`` (read at call time) points at a mirror or, in tests, at a local
server that mimics the hub; ``HF_TOKEN`` is honoured by huggingface_hub itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from awaaz.errors import ModelError, ModelNotFoundError
from awaaz.models.catalog import ModelCatalog
from awaaz.models.registry import RegisteredModel, validate_model_id

WHISPER_FILES = ["config.json", "model.bin", "tokenizer.json", "vocabulary.*", "preprocessor_config.json"]
"""What faster-whisper loads from a CTranslate2 Whisper repository."""


@dataclass(frozen=True, slots=True)
class HubModel:
    """A model ``awaaz models pull`` knows by name."""

    id: str
    repo: str
    description: str


PULLABLE: tuple[HubModel, ...] = (
    HubModel("whisper-tiny", "Systran/faster-whisper-tiny", "Whisper tiny (39 M), CTranslate2"),
    HubModel(
        "whisper-base-hub", "Systran/faster-whisper-base", "Whisper base (74 M), CTranslate2, from the hub"
    ),
    HubModel("whisper-small", "Systran/faster-whisper-small", "Whisper small (244 M), CTranslate2"),
    HubModel("whisper-medium", "Systran/faster-whisper-medium", "Whisper medium (769 M), CTranslate2"),
    HubModel("whisper-large-v3", "Systran/faster-whisper-large-v3", "Whisper large-v3 (1.55 B), CTranslate2"),
    HubModel(
        "whisper-large-v3-turbo",
        "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
        "Whisper large-v3-turbo (809 M), CTranslate2",
    ),
)
_ALIASES = {
    "tiny": "whisper-tiny",
    "base": "whisper-base-hub",
    "small": "whisper-small",
    "medium": "whisper-medium",
}
_ALIASES |= {
    "large-v3": "whisper-large-v3",
    "turbo": "whisper-large-v3-turbo",
    "large-v3-turbo": "whisper-large-v3-turbo",
}


def find_pullable(name: str) -> HubModel:
    """The pullable model called ``name`` (an id, a short name like ``small``, or a known repo id)."""
    name = _ALIASES.get(name, name)
    for model in PULLABLE:
        if name in (model.id, model.repo):
            return model
    if name.count("/") == 1:  # any other CTranslate2 Whisper repository
        return HubModel(name.split("/")[1].removeprefix("faster-"), name, f"CTranslate2 Whisper from {name}")
    known = ", ".join(m.id for m in PULLABLE)
    raise ModelNotFoundError(
        f"No pullable model {name!r}. Known: {known} (or short names tiny, base, small, medium, large-v3, "
        "turbo), or give a Hugging Face repository id such as Systran/faster-whisper-small."
    )


def download_dir(model_dir: Path, repo: str) -> Path:
    """Where a repository's files are kept inside the model directory."""
    return model_dir / "hub" / repo.replace("/", "--")


def pull(
    catalog: ModelCatalog,
    name: str,
    *,
    model_id: str | None = None,
    revision: str | None = None,
    replace: bool = False,
) -> RegisteredModel:
    """Download a Whisper CTranslate2 model and register it; return its registry entry."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    hub_model = find_pullable(name)
    registered_id = model_id or hub_model.id
    validate_model_id(registered_id)
    model_dir = catalog.registry.model_dir
    target = download_dir(model_dir, hub_model.repo)
    endpoint = os.environ.get("HF_ENDPOINT") or None
    try:
        snapshot_download(
            hub_model.repo,
            revision=revision,
            local_dir=target,
            allow_patterns=WHISPER_FILES,
            endpoint=endpoint,
        )
    except RepositoryNotFoundError as exc:
        raise ModelNotFoundError(
            f"The Hugging Face repository {hub_model.repo!r} does not exist or is private (set HF_TOKEN)."
        ) from exc
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as exc:
        raise ModelError(
            f"Downloading {hub_model.repo} failed: {exc}. Check the network (or HF_ENDPOINT) and try again; "
            "completed files are kept and not downloaded twice."
        ) from exc
    missing = [f for f in ("model.bin", "config.json", "tokenizer.json") if not (target / f).is_file()]
    if missing:
        raise ModelError(
            f"{hub_model.repo} has no {', '.join(missing)}: it is not a CTranslate2 Whisper model. Use a "
            "faster-whisper repository (Systran/faster-whisper-*)."
        )
    relative = target.relative_to(model_dir)
    entry = RegisteredModel(
        id=registered_id,
        engine="whisper-ct2",
        path=str(relative),
        description=hub_model.description,
        source=f"hf:{hub_model.repo}" + (f"@{revision}" if revision else ""),
    )
    catalog.register(entry, replace=replace)
    return entry
