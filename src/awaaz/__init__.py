"""Awaaz: self-hosted Hindi speech-to-text."""

__version__ = "0.1.0"
