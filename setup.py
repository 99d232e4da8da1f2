"""Package layout for setuptools; the project's metadata is in pyproject.toml.

The data files live in the top-level ``resources/`` folder (as the repository layout asks) and are
installed as ``workbench/resources``: package discovery in pyproject.toml cannot map a package to
a folder outside the package tree, so the mapping is made here. `workbench.resource_files` finds
the folder in a wheel, an editable install and a PyInstaller bundle.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["workbench", "workbench.*"]), "workbench.resources"],
    package_dir={"workbench.resources": "resources"},
    package_data={"workbench.resources": ["*.yaml", "*.md", "icons/*"]},
)
