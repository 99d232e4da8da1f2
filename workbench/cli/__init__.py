"""The `workbench` command line: `main` (the group and small commands), `run`, `eval`, `logs`."""
