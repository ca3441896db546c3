"""Whisper-specific pieces shared by the engines, the model tools and training.

Nothing here imports anything of Awaaz above :mod:`awaaz.text` and :mod:`awaaz.errors`: the special-token
names, the Devanagari token rules, the window trimming rule, the CTranslate2 file reader and writer, and
the vocabulary scope of a pruned model.
"""
