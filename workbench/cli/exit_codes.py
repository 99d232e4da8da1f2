"""The exit codes scripts and CI rely on (docs/cli.md), in one place."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    #: the eval bar was not met, a run ended failed, or a monitored threshold was breached
    FAILED = 1
    #: bad input: usage, file, template, bundle (one line on stderr names it)
    BAD_INPUT = 2
    #: a bug: one line on stderr, the traceback in a crash log
    INTERNAL = 3
    INTERRUPTED = 130
