"""Text processing for Hindi: script checks, normalisation and error metrics."""
