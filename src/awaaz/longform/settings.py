"""The long-form settings that follow from the service settings."""

from __future__ import annotations

from awaaz.config import Settings
from awaaz.longform.cues import CueSettings
from awaaz.longform.pieces import PieceSettings
from awaaz.longform.transcribe import LongFormSettings


def longform_settings(settings: Settings) -> LongFormSettings:
    """Cutting, recovery and cue limits from ``settings``; pieces run on every model replica at once."""
    return LongFormSettings(
        pieces=PieceSettings(
            max_piece_s=settings.longform_piece_s,
            whole_max_s=settings.longform_whole_s,
            min_piece_s=settings.longform_min_piece_s,
        ),
        cues=CueSettings(
            max_s=settings.cue_max_s, line_chars=settings.cue_line_chars, lines=settings.cue_lines
        ),
        recover_gap_s=settings.longform_recover_gap_s,
        workers=settings.replicas(),
    )
