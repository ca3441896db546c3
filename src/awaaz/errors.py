"""Domain errors. They know nothing of HTTP: the API maps each *kind* to a status code in one place.

Every message says what went wrong and how to fix it.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """What sort of failure an error is; the API layer maps each kind to one status code."""

    BAD_INPUT = "bad_input"
    TOO_LARGE = "too_large"
    UNSUPPORTED_MEDIA = "unsupported_media"
    BAD_PARAMETER = "bad_parameter"
    UNAUTHORIZED = "unauthorized"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    NOT_READY = "not_ready"
    OVERLOADED = "overloaded"
    TIMEOUT = "timeout"
    INTERNAL = "internal"


class AwaazError(Exception):
    """Base of every error Awaaz raises on purpose."""

    kind: ErrorKind = ErrorKind.INTERNAL
    code: str = "internal_error"

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


# --- audio ---------------------------------------------------------------------------------------


class AudioError(AwaazError):
    """The audio could not be used."""

    kind = ErrorKind.BAD_INPUT
    code = "invalid_audio"


class EmptyAudioError(AudioError, ValueError):
    """The upload had no bytes at all."""

    code = "empty_file"


class AudioDecodeError(AudioError, ValueError):
    """The bytes are not audio that can be decoded (corrupt, truncated or another kind of file)."""

    kind = ErrorKind.UNSUPPORTED_MEDIA
    code = "unsupported_media"


class NoAudioStreamError(AudioError, ValueError):
    """The container decoded but holds no audio stream (a video-only or image file, say)."""

    code = "no_audio_stream"


class NoAudioSamplesError(AudioError, ValueError):
    """The audio stream decoded to zero samples."""

    code = "no_audio_samples"


class AudioTooLongError(AudioError, ValueError):
    """The audio runs longer than the limit for this kind of request."""

    code = "audio_too_long"


class UploadTooLargeError(AwaazError, ValueError):
    """The upload is larger than the configured limit."""

    kind = ErrorKind.TOO_LARGE
    code = "file_too_large"


# --- parameters ----------------------------------------------------------------------------------


class InvalidParameterError(AwaazError, ValueError):
    """A request parameter has a value Awaaz cannot use."""

    kind = ErrorKind.BAD_PARAMETER
    code = "invalid_parameter"


# --- models --------------------------------------------------------------------------------------


class ModelError(AwaazError):
    """A model could not be found, verified or loaded."""

    kind = ErrorKind.INTERNAL
    code = "model_error"


class ModelNotFoundError(ModelError, LookupError):
    """No model with that id is known."""

    kind = ErrorKind.NOT_FOUND
    code = "model_not_found"


class ModelIntegrityError(ModelError):
    """A model file does not match its recorded checksum."""

    code = "model_integrity"


class ModelLoadError(ModelError):
    """The model files exist but the engine failed to load them."""

    kind = ErrorKind.NOT_READY
    code = "model_load_failed"


class NotReadyError(AwaazError):
    """The service is still starting (the model is not loaded yet)."""

    kind = ErrorKind.NOT_READY
    code = "not_ready"


class OverloadedError(AwaazError):
    """Too much work is in flight; the caller should retry later."""

    kind = ErrorKind.OVERLOADED
    code = "overloaded"

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimitedError(OverloadedError):
    """A caller used up its share (requests or audio seconds per minute); it may retry later."""

    code = "rate_limit_exceeded"


class UnauthorizedError(AwaazError):
    """No API key, or one the server does not know."""

    kind = ErrorKind.UNAUTHORIZED
    code = "invalid_api_key"


class TranscriptionTimeoutError(AwaazError, TimeoutError):
    """A transcription ran past its time limit."""

    kind = ErrorKind.TIMEOUT
    code = "timeout"


# --- jobs ----------------------------------------------------------------------------------------


class JobNotFoundError(AwaazError, LookupError):
    """No job with that id exists (any more)."""

    kind = ErrorKind.NOT_FOUND
    code = "job_not_found"


class JobNotDoneError(AwaazError):
    """The job's result was asked for before the job was done."""

    kind = ErrorKind.CONFLICT
    code = "job_not_done"
