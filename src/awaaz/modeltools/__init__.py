"""Tools that make new models out of existing ones: vocabulary pruning, weight averaging, quantization,
Hugging Face downloads and NeMo export. The server never needs them; `awaaz models ...` does."""
