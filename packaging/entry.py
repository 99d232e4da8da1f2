"""Entry point of the frozen app: PyInstaller runs this file as ``__main__``.

A separate file rather than ``workbench/__main__.py`` because PyInstaller puts the entry script's
folder on the import path, which would make ``workbench``'s subpackages importable under
top-level names too.
"""

from workbench.cli.main import main

if __name__ == "__main__":
    main()
