"""The production loader: standard library only, copied beside exports as ``prompt_registry.py``.

Everything lives in `workbench.runtime.registry`, one self-contained file, so that
``workbench export --with-loader`` can ship it verbatim; this package only re-exports it.
"""

from workbench.runtime.registry import (
    CALL_LOGGER,
    FORMAT,
    FORMAT_VERSION,
    KILL_ENV,
    LiveRegistry,
    MissingVariables,
    Registry,
    RegistryError,
    RenderedPrompt,
    extract_variables,
    feedback_record,
    killed_by_environment,
    log_call,
    render_template,
    rollout_bucket,
)

__all__ = [
    "CALL_LOGGER",
    "FORMAT",
    "FORMAT_VERSION",
    "KILL_ENV",
    "LiveRegistry",
    "MissingVariables",
    "Registry",
    "RegistryError",
    "RenderedPrompt",
    "extract_variables",
    "feedback_record",
    "killed_by_environment",
    "log_call",
    "render_template",
    "rollout_bucket",
]
