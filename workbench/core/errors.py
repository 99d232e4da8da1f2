"""Errors a user can act on.

Every error that reaches the command line or a dialog is a `WorkbenchError`: one sentence that
names the file, the line or field, and the fix. The CLI maps them to exit code 2 (bad input).
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class for errors shown to the user as one clear message (never a traceback)."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(self.user_message)

    @property
    def user_message(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


class BadInput(WorkbenchError):
    """Malformed user input: a file, a field or an option.

    :param source: file path (or "<option>") the bad input came from
    :param line: 1-based line number where known
    :param field: dotted path of the offending field where known
    """

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.field = field
        where = ""
        if source:
            where = source + (f":{line}" if line else "")
        if field:
            where = f"{where} (field '{field}')" if where else f"field '{field}'"
        super().__init__(f"{where}: {message}" if where else message, hint=hint)


class TemplateError(BadInput):
    """A template cannot be rendered, e.g. because variables are missing."""


class MissingVariables(TemplateError):
    """Variables used by a template but absent from the values supplied."""

    def __init__(self, missing: list[str], *, where: str | None = None) -> None:
        self.missing = missing
        names = ", ".join(missing)
        prefix = f"{where}: " if where else ""
        super().__init__(
            f"{prefix}missing template variable(s): {names}",
            hint="Add them to the example, or remove them from the prompt.",
        )


class ProjectFileError(WorkbenchError):
    """A project file cannot be opened or used as asked."""


class NotFound(WorkbenchError):
    """A named prompt, version, label, dataset, run or model does not exist."""


class MissingFiles(TemplateError):
    """Image or document files that examples name but that cannot be found."""

    def __init__(self, missing: list[str], *, where: str | None = None) -> None:
        self.missing = missing
        prefix = f"{where}: " if where else ""
        super().__init__(
            f"{prefix}missing file(s): {', '.join(missing)}",
            hint="Put the files next to the project or bundle (paths are relative to it), "
            "or fix the paths in the dataset.",
        )
