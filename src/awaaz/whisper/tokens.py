"""Names of Whisper's special tokens, spelled once."""

from __future__ import annotations

EOT = "<|endoftext|>"
SOT = "<|startoftranscript|>"
TRANSCRIBE = "<|transcribe|>"
TRANSLATE = "<|translate|>"
NO_TIMESTAMPS = "<|notimestamps|>"


def language_token(language: str) -> str:
    """The token that names ``language`` (an ISO-639-1 code such as ``hi``)."""
    return f"<|{language}|>"
