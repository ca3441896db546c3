"""Language models for rescoring recognition hypotheses."""
