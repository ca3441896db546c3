"""Model files: assembling the embedded default, verifying checksums, and the catalog of model ids."""
