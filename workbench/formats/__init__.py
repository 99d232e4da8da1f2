"""Text formats the project reads and writes (bundle YAML, atomic files); no SQL, no Qt."""
