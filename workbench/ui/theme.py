"""The one place colours come from: a light and a dark theme derived from the application palette.

Every widget asks `current_theme()` for a role (pass/fail, diff insert/delete, banners, chart
pens ...) instead of writing a colour. The roles are blends of the palette's own base and text
colours with a few hue anchors, so they sit well on whatever palette the platform gives; the
anchors differ between light and dark (dark text on pale tints, light text on deep tints).

`apply_theme(app, choice)` switches between System / Light / Dark live: it sets the palette and
tells every themed widget (`on_theme_change`, `themed_style`) to restyle itself, charts included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

SETTINGS_KEY = "appearance/theme"


class ThemeChoice(StrEnum):
    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


# Hue anchors, blended into the palette below. Okabe-Ito for chart series: distinguishable with
# the common colour-vision deficiencies; the dark variant swaps black for white.
_SERIES_LIGHT = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#7F7F7F", "#000000")  # fmt: skip
_SERIES_DARK = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#0072B2", "#A0A0A0", "#FFFFFF")  # fmt: skip
_HUES = {
    "green": "#24a148",
    "red": "#da1e28",
    "yellow": "#f1c21b",
    "blue": "#0f62fe",
    "purple": "#8a3ffc",
}
_TEXT_LIGHT = {"green": "#0e6027", "red": "#a2191f", "yellow": "#8a5300", "blue": "#0043ce", "purple": "#6929c4"}  # fmt: skip
_TEXT_DARK = {"green": "#6fdc8c", "red": "#ff8389", "yellow": "#f1c21b", "blue": "#78a9ff", "purple": "#be95ff"}  # fmt: skip
# The dark palette for Light/Dark chosen by hand (System takes the platform's own palette).
_DARK_WINDOW, _DARK_BASE, _DARK_TEXT = "#202124", "#17181a", "#e8eaed"


def _mix(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved `amount` (0..1) of the way towards `b`."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def is_dark(palette: QPalette) -> bool:
    """True when the palette draws light text on a dark window."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


@dataclass(frozen=True)
class Theme:
    """Every colour the app draws, by what it means."""

    dark: bool
    text: QColor
    muted: QColor  # secondary text: notes, hints, statuses
    faint: QColor  # tertiary: placeholders, escapes, not-applicable cells
    base: QColor
    panel: QColor  # a bar or strip set off from the window
    border: QColor
    good: QColor  # text saying something passed / is fine
    bad: QColor  # text saying something failed / is an error
    warning: QColor
    info: QColor
    accent: QColor  # differs-from-baseline markers, template variables
    pass_bg: QColor
    fail_bg: QColor
    flaky_bg: QColor
    error_bg: QColor
    busy_bg: QColor  # streaming cells
    idle_bg: QColor  # pending / cancelled cells
    insert_bg: QColor
    delete_bg: QColor
    hunk_bg: QColor
    accent_bg: QColor
    info_bg: QColor
    banner_bg: QColor  # the demo / synthetic / notice banners
    banner_fg: QColor
    banner_border: QColor
    chart_bg: QColor
    chart_fg: QColor  # axes, tick labels, value labels
    chart_ink: QColor  # marks drawn over the series (medians, frontier line, rings)
    chart_faint: QColor  # interval whiskers
    alert: QColor  # alert lines and threshold markers
    bar: QColor
    series: tuple[QColor, ...]

    @classmethod
    def from_palette(cls, palette: QPalette) -> Theme:
        """The theme for `palette`, light or dark by its window colour."""
        dark = is_dark(palette)
        base = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        window = palette.color(QPalette.ColorRole.Window)
        hue = {name: QColor(value) for name, value in _HUES.items()}
        ink = {name: QColor(value) for name, value in (_TEXT_DARK if dark else _TEXT_LIGHT).items()}
        tint = 0.28 if dark else 0.16

        def bg(name: str, amount: float = tint) -> QColor:
            return _mix(base, hue[name], amount)

        return cls(
            dark=dark,
            text=text,
            muted=_mix(text, base, 0.35),
            faint=_mix(text, base, 0.5),
            base=base,
            panel=_mix(window, text, 0.05),
            border=_mix(window, text, 0.25),
            good=ink["green"],
            bad=ink["red"],
            warning=ink["yellow"],
            info=ink["blue"],
            accent=ink["purple"],
            pass_bg=bg("green"),
            fail_bg=bg("red", tint * 0.7),
            flaky_bg=bg("yellow"),
            error_bg=bg("red", tint * 1.4),
            busy_bg=bg("yellow", tint * 0.6),
            idle_bg=_mix(base, text, 0.06),
            insert_bg=bg("green", tint * 1.3),
            delete_bg=bg("red", tint * 1.3),
            hunk_bg=bg("blue", tint * 0.7),
            accent_bg=bg("purple", tint * 0.7),
            info_bg=bg("blue", tint * 0.7),
            banner_bg=bg("yellow", tint * 1.2),
            banner_fg=_mix(ink["yellow"], text, 0.45),
            banner_border=hue["yellow"],
            chart_bg=base,
            chart_fg=_mix(text, base, 0.15),
            chart_ink=_mix(text, base, 0.05),
            chart_faint=_mix(text, base, 0.5),
            alert=ink["red"],
            bar=ink["green"],
            series=tuple(QColor(c) for c in (_SERIES_DARK if dark else _SERIES_LIGHT)),
        )

    def series_colour(self, index: int) -> QColor:
        """The `index`-th chart series colour (wrapping round)."""
        return QColor(self.series[index % len(self.series)])

    def banner_style(self, padding: str = "2px 6px") -> str:
        """The style sheet of a notice banner (demo, synthetic data, projection caveats)."""
        return (
            f"background: {self.banner_bg.name()}; color: {self.banner_fg.name()};"
            f" border: 1px solid {self.banner_border.name()}; padding: {padding};"
        )


def current_theme() -> Theme:
    """The theme of the running application's palette (a default palette before one exists)."""
    app = QGuiApplication.instance()
    palette = app.palette() if isinstance(app, QGuiApplication) else QPalette()
    return Theme.from_palette(palette)


def color(role: str) -> QColor:
    """One role of the current theme, e.g. ``color("muted")``."""
    value = getattr(current_theme(), role)
    if not isinstance(value, QColor):
        raise AttributeError(f"{role!r} is not a colour role of the theme")
    return QColor(value)


def css(role: str) -> str:
    """``"color: #rrggbb;"`` for a text role, the common case of a label's style sheet."""
    return f"color: {color(role).name()};"


# -- switching ------------------------------------------------------------------------------


class _Notifier(QObject):
    changed = Signal()


_notifier: _Notifier | None = None


def notifier() -> _Notifier:
    """The object whose `changed` signal fires after the theme was switched."""
    global _notifier
    if _notifier is None:
        _notifier = _Notifier()
    return _notifier


class _Restyler(QObject):
    """A child of the widget, so the connection ends when the widget is deleted."""

    def __init__(self, widget: QObject, apply: Callable[[Theme], None]) -> None:
        super().__init__(widget)
        self._apply = apply
        notifier().changed.connect(self.restyle)
        apply(current_theme())

    def restyle(self) -> None:
        self._apply(current_theme())


def on_theme_change(widget: QObject, apply: Callable[[Theme], None]) -> None:
    """Call `apply(theme)` now and again after every theme switch, while `widget` lives."""
    _Restyler(widget, apply)


def themed_style(widget: QWidget, sheet: Callable[[Theme], str]) -> None:
    """Give `widget` the style sheet `sheet(theme)`, rebuilt after every theme switch."""
    on_theme_change(widget, lambda theme: widget.setStyleSheet(sheet(theme)))


def dark_palette() -> QPalette:
    """A dark palette for Fusion, for platforms that give none (and for the Dark choice)."""
    window, base, text = QColor(_DARK_WINDOW), QColor(_DARK_BASE), QColor(_DARK_TEXT)
    highlight = QColor(_TEXT_DARK["blue"]).darker(160)
    palette = QPalette(window)
    roles = QPalette.ColorRole
    for role, value in (
        (roles.Window, window),
        (roles.WindowText, text),
        (roles.Base, base),
        (roles.AlternateBase, _mix(base, text, 0.05)),
        (roles.Text, text),
        (roles.Button, _mix(window, text, 0.08)),
        (roles.ButtonText, text),
        (roles.ToolTipBase, window),
        (roles.ToolTipText, text),
        (roles.PlaceholderText, _mix(text, base, 0.5)),
        (roles.Highlight, highlight),
        (roles.HighlightedText, QColor(_DARK_TEXT)),
        (roles.Link, QColor(_TEXT_DARK["blue"])),
        (roles.BrightText, QColor(_TEXT_DARK["red"])),
    ):
        palette.setColor(role, value)
    for role in (roles.Text, roles.WindowText, roles.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, _mix(text, base, 0.55))
    return palette


def light_palette(app: QApplication) -> QPalette:
    """The style's own light palette."""
    return app.style().standardPalette()


def stored_choice(settings: QSettings | None = None) -> ThemeChoice:
    """The System / Light / Dark choice saved in the settings (System when unset or unknown)."""
    value = (settings or QSettings()).value(SETTINGS_KEY, ThemeChoice.SYSTEM.value)
    try:
        return ThemeChoice(str(value))
    except ValueError:
        return ThemeChoice.SYSTEM


def _system_is_dark(app: QApplication) -> bool:
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Dark:
        return True
    if scheme == Qt.ColorScheme.Light:
        return False
    return is_dark(app.style().standardPalette())  # the platform gave no hint


def apply_theme(
    app: QApplication, choice: ThemeChoice | str, settings: QSettings | None = None
) -> Theme:
    """Switch the running app to `choice` (System / Light / Dark), save it, restyle every widget.

    System follows the platform's colour-scheme hint, also when it changes while the app runs.
    """
    choice = ThemeChoice(choice)
    (settings or QSettings()).setValue(SETTINGS_KEY, choice.value)
    hints = app.styleHints()
    if choice is ThemeChoice.SYSTEM:
        hints.unsetColorScheme()
        dark = _system_is_dark(app)
    else:
        dark = choice is ThemeChoice.DARK
        hints.setColorScheme(Qt.ColorScheme.Dark if dark else Qt.ColorScheme.Light)
    _set_palette(app, dark)
    _follow_system(app, choice is ThemeChoice.SYSTEM)
    notifier().changed.emit()
    return current_theme()


def _set_palette(app: QApplication, dark: bool) -> None:
    app.setPalette(dark_palette() if dark else light_palette(app))
    # A widget with a style sheet keeps the palette it was polished with (even for the parts
    # its sheet does not set, e.g. a bold title's text colour); setting the sheet again makes
    # it take the new one.
    # The same holds for the application's own sheet (the focus ring), which every widget uses.
    if app_sheet := app.styleSheet():
        app.setStyleSheet(app_sheet)
    for widget in app.allWidgets():
        sheet = widget.styleSheet()
        if sheet:
            widget.setStyleSheet(sheet)


_following = False


def _on_system_scheme_changed() -> None:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        _set_palette(app, _system_is_dark(app))
        notifier().changed.emit()


def _follow_system(app: QApplication, follow: bool) -> None:
    global _following
    if follow and not _following:
        app.styleHints().colorSchemeChanged.connect(_on_system_scheme_changed)
    elif not follow and _following:
        app.styleHints().colorSchemeChanged.disconnect(_on_system_scheme_changed)
    _following = follow
