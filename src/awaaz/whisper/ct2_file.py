"""Read and write CTranslate2's ``model.bin`` as numpy arrays.

The format is the one ``ctranslate2.specs.model_spec.ModelSpec._serialize`` writes (little-endian):
``u32 version, str name, u32 revision, u32 n_vars, n_vars * (str name, u8 rank, rank * u32 dim,
u8 dtype, u32 nbytes, bytes), u32 n_aliases, n_aliases * (str alias, str target)`` where ``str`` is
``u16 length-with-NUL, utf-8 bytes, NUL``. This module needs numpy only, not torch or ctranslate2: the
trainer reads weights with it, and vocabulary pruning (:mod:`awaaz.modeltools.prune`) rewrites a model
with it.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

# Order of include/ctranslate2/types.h DataType; bfloat16 is read as raw uint16 and widened by hand.
_DTYPES: tuple[str, ...] = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
SUPPORTED_BINARY_VERSIONS = (5, 6)


@dataclass(slots=True)
class CT2Model:
    """The variables of one CTranslate2 model file, by name, with aliases resolved."""

    name: str
    revision: int
    binary_version: int
    variables: dict[str, npt.NDArray[np.generic]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    dtypes: dict[str, str] = field(default_factory=dict)
    """The stored data type of each variable (bfloat16 variables are held widened to float32)."""

    def get(self, name: str) -> npt.NDArray[np.generic]:
        """Return variable ``name``, following an alias if there is one."""
        return self.variables[self.aliases.get(name, name)]

    def float32(self, name: str) -> npt.NDArray[np.float32]:
        """Return variable ``name`` as float32, dequantising int8 weights with their ``*_scale``."""
        value = self.get(name)
        if value.dtype == np.int8:
            scale = self.get(scale_name(name)).astype(np.float32)
            return (value.astype(np.float32) / scale.reshape(-1, *([1] * (value.ndim - 1)))).astype(
                np.float32
            )
        return value.astype(np.float32)


def scale_name(name: str) -> str:
    """The variable that holds the per-row scales of int8 variable ``name`` (``.../weight_scale``)."""
    return name[: -len("weight")] + "weight_scale" if name.endswith("weight") else name + "_scale"


def _read(handle: BinaryIO, fmt: str) -> int:
    size = struct.calcsize(fmt)
    data = handle.read(size)
    if len(data) != size:
        raise ValueError("Truncated CTranslate2 model file.")
    return int(struct.unpack("<" + fmt, data)[0])


def _read_string(handle: BinaryIO) -> str:
    length = _read(handle, "H")
    raw = handle.read(length)
    return raw[:-1].decode("utf-8")


def read_ct2_model(path: Path) -> CT2Model:
    """Parse ``path`` (a CTranslate2 ``model.bin``) into a :class:`CT2Model`.

    Raises ``ValueError`` for a binary version this reader does not know or a truncated file.
    """
    with path.open("rb") as handle:
        version = _read(handle, "I")
        if version not in SUPPORTED_BINARY_VERSIONS:
            raise ValueError(
                f"{path} uses CTranslate2 binary version {version}; this reader knows "
                f"{SUPPORTED_BINARY_VERSIONS}. Re-save the model with ctranslate2 4.x."
            )
        model = CT2Model(name=_read_string(handle), revision=_read(handle, "I"), binary_version=version)
        for _ in range(_read(handle, "I")):
            name = _read_string(handle)
            rank = _read(handle, "B")
            shape = tuple(_read(handle, "I") for _ in range(rank))
            dtype = _DTYPES[_read(handle, "B")]
            nbytes = _read(handle, "I")
            raw = handle.read(nbytes)
            if len(raw) != nbytes:
                raise ValueError(f"Truncated CTranslate2 model file at variable {name!r}.")
            if dtype == "bfloat16":
                bits = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
                array: npt.NDArray[np.generic] = bits.view(np.float32).reshape(shape)
            else:
                array = np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape)
            model.variables[name] = array
            model.dtypes[name] = dtype
        for _ in range(_read(handle, "I")):
            alias = _read_string(handle)
            model.aliases[alias] = _read_string(handle)
    return model


def _write_string(handle: BinaryIO, text: str) -> None:
    raw = text.encode("utf-8") + b"\0"
    handle.write(struct.pack("<H", len(raw)) + raw)


def write_ct2_model(model: CT2Model, path: Path) -> None:
    """Write ``model`` to ``path`` in the format :func:`read_ct2_model` reads (and CTranslate2 loads).

    Each variable keeps its stored data type (:attr:`CT2Model.dtypes`; a variable without one is written in
    its array's type). The file is written next to ``path`` and renamed into place.
    """
    partial = path.with_name(path.name + ".partial")
    with partial.open("wb") as handle:
        handle.write(struct.pack("<I", model.binary_version))
        _write_string(handle, model.name)
        handle.write(struct.pack("<II", model.revision, len(model.variables)))
        for name, array in model.variables.items():
            dtype = model.dtypes.get(name, array.dtype.name)
            if dtype == "bfloat16":
                raw = (np.ascontiguousarray(array, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
                data = raw.tobytes()
            else:
                data = np.ascontiguousarray(array, dtype=np.dtype(dtype)).tobytes()
            _write_string(handle, name)
            handle.write(struct.pack("<B", array.ndim))
            handle.write(struct.pack(f"<{array.ndim}I", *array.shape))
            handle.write(struct.pack("<BI", _DTYPES.index(dtype), len(data)))
            handle.write(data)
        handle.write(struct.pack("<I", len(model.aliases)))
        for alias, target in model.aliases.items():
            _write_string(handle, alias)
            _write_string(handle, target)
    partial.replace(path)


def read_vocabulary(ct2_dir: Path) -> list[str]:
    """The token list of a CTranslate2 model directory (``vocabulary.json`` or ``vocabulary.txt``)."""
    as_json = ct2_dir / "vocabulary.json"
    if as_json.is_file():
        return list(json.loads(as_json.read_text(encoding="utf-8")))
    lines = (ct2_dir / "vocabulary.txt").read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines
