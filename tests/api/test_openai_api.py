"""The OpenAI contract, exercised with the official client on the real default model."""

from __future__ import annotations

import io
import json

import openai
import pytest
from fastapi.testclient import TestClient
from openai import OpenAI

from awaaz.config import DEFAULT_MODEL_ID
from awaaz.text.script import is_devanagari_text
from tests.conftest import Clip, encode, tone

pytestmark = pytest.mark.model


def _upload(clip: Clip, ext: str | None = None) -> tuple[str, bytes]:
    return (clip.path.name if ext is None else f"clip.{ext}", clip.path.read_bytes())


def test_json_returns_devanagari_text(client: OpenAI, hindi_clips: list[Clip]) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1", file=_upload(hindi_clips[0]), language="hi"
    )
    assert result.text.strip()
    assert is_devanagari_text(result.text), result.text


def test_mp3_upload_like_the_acceptance_check(client: OpenAI, hindi_clips: list[Clip]) -> None:
    from awaaz.audio import decode_audio

    samples = decode_audio(hindi_clips[1].path).reshape(1, -1)
    mp3 = encode(samples, 16_000, "mp3")
    result = client.audio.transcriptions.create(model="whisper-1", file=("x.mp3", mp3), language="hi")
    assert is_devanagari_text(result.text), result.text


def test_text_format_is_plain_text(client: OpenAI, hindi_clips: list[Clip]) -> None:
    text = client.audio.transcriptions.create(
        model="whisper-1", file=_upload(hindi_clips[2]), response_format="text"
    )
    assert isinstance(text, str)
    assert is_devanagari_text(text.strip())


def test_srt_and_vtt_have_cues(client: OpenAI, hindi_clips: list[Clip]) -> None:
    srt = client.audio.transcriptions.create(
        model="whisper-1", file=_upload(hindi_clips[3]), response_format="srt"
    )
    assert isinstance(srt, str)
    lines = srt.strip().splitlines()
    assert lines[0] == "1"
    assert " --> " in lines[1]
    assert "," in lines[1]
    vtt = client.audio.transcriptions.create(
        model="whisper-1", file=_upload(hindi_clips[3]), response_format="vtt"
    )
    assert isinstance(vtt, str)
    assert vtt.startswith("WEBVTT\n\n")
    assert "." in vtt.splitlines()[2]


def test_verbose_json_with_words_and_segments(client: OpenAI, hindi_clips: list[Clip]) -> None:
    clip = hindi_clips[4]
    result = client.audio.transcriptions.create(
        model="whisper-1",
        file=_upload(clip),
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert result.language == "hindi"
    assert result.duration == pytest.approx(clip.duration_s, abs=0.05)
    assert result.segments
    assert result.words
    for word in result.words:
        assert 0.0 <= word.start <= word.end <= clip.duration_s + 0.5
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    segment = result.segments[0]
    assert segment.tokens
    assert segment.end > segment.start
    assert result.text == " ".join(s.text for s in result.segments)


def test_verbose_json_defaults_to_segments_only(http: TestClient, hindi_clips: list[Clip]) -> None:
    response = http.post(
        "/v1/audio/transcriptions",
        files={"file": _upload(hindi_clips[0])},
        data={"model": "whisper-1", "response_format": "verbose_json"},
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"task", "language", "duration", "text", "segments"}


def test_models_are_listed_and_default_model_is_served(client: OpenAI) -> None:
    ids = [m.id for m in client.models.list().data]
    assert "whisper-base" in ids
    assert client.models.retrieve("whisper-base").id == "whisper-base"


def test_model_ids_from_the_list_are_accepted(client: OpenAI, hindi_clips: list[Clip]) -> None:
    result = client.audio.transcriptions.create(model="whisper-base", file=_upload(hindi_clips[0]))
    assert is_devanagari_text(result.text)


def test_prompt_and_temperature_are_accepted(client: OpenAI, hindi_clips: list[Clip]) -> None:
    result = client.audio.transcriptions.create(
        model="whisper-1", file=_upload(hindi_clips[5]), prompt="नमस्ते।", temperature=0.2
    )
    assert isinstance(result.text, str)


def test_compat_endpoint(http: TestClient, hindi_clips: list[Clip]) -> None:
    response = http.post("/transcribe", files={"file": _upload(hindi_clips[0])})
    assert response.status_code == 200
    assert is_devanagari_text(response.json()["transcription"])


def test_health_and_ready(http: TestClient) -> None:
    assert http.get("/health").json()["status"] == "ok"
    ready = http.get("/ready")
    assert ready.status_code == 200
    assert DEFAULT_MODEL_ID in ready.json()["models"]


# --- errors: right status, OpenAI's error shape, and the server keeps serving --------------------------


def _error(response: object) -> dict[str, str]:
    body = json.loads(response.content)  # type: ignore[attr-defined]
    assert set(body) == {"error"}
    assert {"message", "type", "code"} <= set(body["error"])
    return body["error"]  # type: ignore[no-any-return]


def test_zero_byte_file_is_400_and_server_stays_up(
    client: OpenAI, http: TestClient, hindi_clips: list[Clip]
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(model="whisper-1", file=("empty.wav", b""))
    assert info.value.status_code == 400
    assert _error(info.value.response)["code"] == "empty_file"
    assert http.get("/health").status_code == 200
    assert client.audio.transcriptions.create(model="whisper-1", file=_upload(hindi_clips[0])).text


def test_not_audio_is_415(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.transcriptions.create(model="whisper-1", file=("notes.txt", b"hello, this is text" * 50))
    assert info.value.status_code == 415
    assert "audio" in _error(info.value.response)["message"]


def test_too_long_audio_is_400(client: OpenAI) -> None:
    long_wav = encode(tone(21.0), 16_000, "mp3")  # limit in this app: 20 s
    with pytest.raises(openai.BadRequestError) as info:
        client.audio.transcriptions.create(model="whisper-1", file=("long.mp3", long_wav))
    assert _error(info.value.response)["code"] == "audio_too_long"


def test_upload_over_the_limit_is_413(client: OpenAI) -> None:
    big = bytes(2 * 1024 * 1024)  # limit in this app: 1 MB
    with pytest.raises(openai.APIStatusError) as info:
        client.audio.transcriptions.create(model="whisper-1", file=("big.wav", big))
    assert info.value.status_code == 413
    assert _error(info.value.response)["code"] == "file_too_large"


def test_streamed_body_over_the_limit_is_cut_off_with_413(http: TestClient) -> None:
    sent = 0

    def chunks():  # type: ignore[no-untyped-def]
        nonlocal sent
        for _ in range(64):  # would be 4 MiB; no Content-Length, so only counting can stop it
            sent += 1
            yield b"\0" * 65536

    response = http.post(
        "/v1/audio/transcriptions",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 413
    assert _error(response)["code"] == "file_too_large"


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"model": "no-such-model"}, "model"),
        ({"model": "whisper-1", "response_format": "docx"}, "response_format"),
        ({"model": "whisper-1", "temperature": "7"}, "temperature"),
        ({"model": "whisper-1", "language": "xx"}, "language"),
        ({"model": "whisper-1", "language": "en"}, "language"),  # the default's vocabulary is Hindi-only
        ({"model": "whisper-1", "timestamp_granularities[]": "word"}, "timestamp_granularities"),
        (
            {"model": "whisper-1", "response_format": "verbose_json", "timestamp_granularities[]": "char"},
            "timestamp_granularities",
        ),
    ],
)
def test_bad_parameters_are_422(
    http: TestClient, hindi_clips: list[Clip], data: dict[str, str], param: str
) -> None:
    response = http.post("/v1/audio/transcriptions", files={"file": _upload(hindi_clips[0])}, data=data)
    assert response.status_code == 422, response.text
    assert _error(response)["param"] == param


def test_missing_file_is_422(http: TestClient) -> None:
    response = http.post("/v1/audio/transcriptions", data={"model": "whisper-1"})
    assert response.status_code == 422
    assert "file" in _error(response)["message"]


def test_unknown_model_card_is_404(http: TestClient) -> None:
    response = http.get("/v1/models/nope")
    assert response.status_code == 404
    assert _error(response)["code"] == "model_not_found"


def test_unknown_route_is_404_in_openai_shape(http: TestClient) -> None:
    assert _error(http.get("/v1/nothing"))["code"] == "not_found"


def test_bytes_io_upload(client: OpenAI, hindi_clips: list[Clip]) -> None:
    buffer = io.BytesIO(hindi_clips[0].path.read_bytes())
    buffer.name = "clip.flac"
    assert client.audio.transcriptions.create(model="whisper-1", file=buffer).text


def test_a_prompt_longer_than_the_decoder_keeps_is_refused_in_tokens(
    http: TestClient, hindi_clips: list[Clip]
) -> None:
    prompt = " ".join(["नमस्ते"] * 300)  # under the character cap, far over 223 tokens
    response = http.post(
        "/v1/audio/transcriptions",
        files={"file": ("a.flac", hindi_clips[0].path.read_bytes(), "audio/flac")},
        data={"prompt": prompt},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "prompt"
    assert "tokens" in response.json()["error"]["message"]
