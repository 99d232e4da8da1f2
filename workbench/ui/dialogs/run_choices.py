"""The run dialog's choice lists (prompt versions with their labels, models from the catalog)
and the small helpers that read them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QListWidget, QListWidgetItem

from workbench.core.models import Model, Prompt
from workbench.services.planner import parse_prompt_ref

REF_ROLE = Qt.ItemDataRole.UserRole
MODEL_ROLE = Qt.ItemDataRole.UserRole + 1


def checked(widget: QListWidget) -> list[str]:
    return [
        widget.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(widget.count())
        if widget.item(i).checkState() == Qt.CheckState.Checked
    ]


def _checkable(text: str, ref: str, checked_now: bool) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setData(REF_ROLE, ref)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked_now else Qt.CheckState.Unchecked)
    return item


def fill_versions(widget: QListWidget, prompts: list[Prompt], wanted: list[str] | None) -> None:
    """One checkable line per version, newest first: ``quiz @ v3  [production] — note``.

    :param wanted: refs to check (``NAME`` = latest, ``NAME@3``, ``NAME@label``); None checks
        the latest version of the first prompt
    """
    refs = [parse_prompt_ref(ref) for ref in wanted or []]
    defaulted = False
    for prompt in prompts:
        versions = sorted(prompt.versions, key=lambda v: v.version, reverse=True)
        for index, version in enumerate(versions):
            labels = sorted(k for k, v in prompt.labels.items() if v == version.version)
            text = f"{prompt.name} @ v{version.version}"
            if labels:
                text += "  [" + ", ".join(labels) + "]"
            if version.note:
                text += f" — {version.note}"
            if refs:
                chosen = any(
                    name == prompt.name
                    and (ref == str(version.version) or ref in labels or (not ref and index == 0))
                    for name, ref in refs
                )
            else:
                chosen = not defaulted and index == 0
            item = _checkable(text, f"{prompt.name}@{version.version}", chosen)
            item.setData(MODEL_ROLE, version.params.model)
            item.setToolTip(f"model {version.params.model}, max_tokens {version.params.max_tokens}")
            widget.addItem(item)
        defaulted = defaulted or bool(versions)


def fill_models(widget: QListWidget, models: list[Model]) -> None:
    """One checkable line per catalog model: ``Claude Haiku 5.5  (claude-haiku-5-5)``."""
    for model in models:
        widget.addItem(
            _checkable(f"{model.display_name or model.id}  ({model.id})", model.id, False)
        )


def follow_version_models(versions: QListWidget, models: QListWidget) -> None:
    """Check exactly the models the checked versions were written for (adding unknown ones)."""
    wanted = {
        versions.item(i).data(MODEL_ROLE)
        for i in range(versions.count())
        if versions.item(i).checkState() == Qt.CheckState.Checked
    }
    models.blockSignals(True)
    present = set()
    for i in range(models.count()):
        item = models.item(i)
        model_id = item.data(REF_ROLE)
        present.add(model_id)
        item.setCheckState(Qt.CheckState.Checked if model_id in wanted else Qt.CheckState.Unchecked)
    for model_id in sorted(wanted - present):  # not in the catalog: still offered, and said so
        models.addItem(_checkable(f"{model_id}  (not in the model list)", model_id, True))
    models.blockSignals(False)
