"""Fine-tuning Whisper on manifests and exporting CTranslate2 models (the optional ``train`` extra).

Modules that need torch (``hf``, ``loop``) are imported lazily so that ``awaaz.train.data`` and
``awaaz.train.features`` stay usable, and serving never pulls torch in.
"""
