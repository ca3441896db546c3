"""Accuracy evaluation: read manifests, transcribe each clip, score WER/CER/RTF and write a report."""
