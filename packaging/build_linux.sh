#!/usr/bin/env bash
# Build the Linux packages of Prompt Workbench:
#   dist/prompt-workbench-<version>-linux-x86_64.tar.gz   the one-folder bundle, unpack and run
#   dist/prompt-workbench_<version>_amd64.deb            /opt/prompt-workbench, /usr/bin/workbench,
#                                                        a .desktop entry and an icon
#
#   bash packaging/build_linux.sh              # PyInstaller build + both packages
#   bash packaging/build_linux.sh --no-build   # repackage the bundle already in $BUILD_DIR/dist
#
# Needs: the app and PyInstaller installed (pip install -e '.[dev]'), binutils (objdump, strip)
# and dpkg-deb. Environment: PYTHON (default python3), BUILD_DIR (default build/),
# DIST_DIR (default dist/), DEB_COMPRESSION (xz, gzip or none; default xz).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
BUILD_DIR="${BUILD_DIR:-$ROOT/build}"
DIST_DIR="${DIST_DIR:-$ROOT/dist}"
DEB_COMPRESSION="${DEB_COMPRESSION:-xz}"
APP=prompt-workbench
ICON="$ROOT/resources/icons/$APP.png"

# The libraries the bundle takes from the system (packaging/workbench.spec leaves them out; see
# SYSTEM_LIBS there). libc6 gets its minimum version from the symbols the bundle uses, below.
# libstdc++6 (>= 11) provides GLIBCXX_3.4.29; check_cxx_abi fails the build if a newer one is needed.
DEPENDS_BASE="libstdc++6 (>= 11), libgcc-s1, libegl1, libgl1, libglib2.0-0, libdbus-1-3,
 libfontconfig1, libfreetype6, libxkbcommon0, libxkbcommon-x11-0, libx11-6, libx11-xcb1, libxcb1,
 libxcb-cursor0, libxcb-glx0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0,
 libxcb-render0, libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-util1,
 libxcb-xfixes0, libxcb-xkb1, libwayland-client0, libwayland-cursor0, libwayland-egl1"
MAX_GLIBCXX=29

die() { echo "build_linux.sh: $*" >&2; exit 1; }

version() {
  "$PYTHON" - "$ROOT/pyproject.toml" <<'PY'
import sys, tomllib
with open(sys.argv[1], "rb") as f:
    print(tomllib.load(f)["project"]["version"])
PY
}

elf_files() {  # every ELF file in the bundle (the executable, extensions, libraries, plugins)
  find "$1" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print0 |
    while IFS= read -r -d '' f; do
      [ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] && printf '%s\n' "$f"
    done
  return 0
}

max_symbol_version() {  # max_symbol_version BUNDLE PREFIX -> e.g. 2.35 for GLIBC_2.35
  elf_files "$1" | while IFS= read -r f; do objdump -T "$f" 2>/dev/null; done |
    grep -oE "\b$2_[0-9]+(\.[0-9]+)*" | sed "s/^$2_//" | sort -uV | tail -1
}

check_cxx_abi() {
  local needed
  needed="$(max_symbol_version "$1" GLIBCXX)"
  [ -z "$needed" ] && return 0
  [ "${needed##*.}" -le "$MAX_GLIBCXX" ] ||
    die "the bundle needs GLIBCXX_$needed; raise libstdc++6 in DEPENDS_BASE and MAX_GLIBCXX"
}

build_bundle() {
  local started=$SECONDS
  echo "==> PyInstaller one-folder build (into $BUILD_DIR/dist/$APP)"
  "$PYTHON" -c "import PyInstaller" 2>/dev/null ||
    die "PyInstaller is not installed: run  $PYTHON -m pip install -e '.[dev]'"
  "$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
    --workpath "$BUILD_DIR/pyinstaller" --distpath "$BUILD_DIR/dist" \
    "$ROOT/packaging/workbench.spec"
  echo "    PyInstaller took $((SECONDS - started)) s"
}

make_tarball() {  # make_tarball BUNDLE VERSION
  local name="$APP-$2" stage="$BUILD_DIR/tar"
  rm -rf "$stage" && mkdir -p "$stage/$name"
  cp -a "$1/." "$stage/$name/"
  cp "$ICON" "$stage/$name/$APP.png"
  desktop_entry "workbench" > "$stage/$name/$APP.desktop"
  tar -C "$stage" -czf "$DIST_DIR/$name-linux-x86_64.tar.gz" --owner=0 --group=0 "$name"
  rm -rf "$stage"  # a second 200 MB copy of the bundle
  echo "    $DIST_DIR/$name-linux-x86_64.tar.gz"
}

desktop_entry() {  # desktop_entry EXEC
  cat <<EOF
[Desktop Entry]
Type=Application
Version=1.5
Name=Prompt Workbench
GenericName=Prompt Workbench
Comment=Versioned prompts, side-by-side model runs, eval sets and production exports
Exec=$1 %f
Icon=$APP
Terminal=false
Categories=Development;
Keywords=LLM;prompt;Claude;eval;
StartupWMClass=workbench
EOF
}

make_deb() {  # make_deb BUNDLE VERSION
  local stage="$BUILD_DIR/deb/${APP}_$2_amd64" glibc installed_kb
  rm -rf "$stage"
  mkdir -p "$stage/DEBIAN" "$stage/opt/$APP" "$stage/usr/bin" "$stage/usr/share/applications" \
    "$stage/usr/share/icons/hicolor/256x256/apps" "$stage/usr/share/pixmaps" \
    "$stage/usr/share/doc/$APP"
  cp -a "$1/." "$stage/opt/$APP/"
  # Relative, so the link also works in a root unpacked with `dpkg -x` (the smoke test's).
  ln -s "../../opt/$APP/workbench" "$stage/usr/bin/workbench"
  desktop_entry "workbench" > "$stage/usr/share/applications/$APP.desktop"
  install -m 644 "$ICON" "$stage/usr/share/icons/hicolor/256x256/apps/$APP.png"
  install -m 644 "$ICON" "$stage/usr/share/pixmaps/$APP.png"
  printf 'Prompt Workbench %s\nLicense: MIT\n' "$2" > "$stage/usr/share/doc/$APP/copyright"
  chmod -R u+rwX,go+rX,go-w "$stage"

  glibc="$(max_symbol_version "$1" GLIBC)"
  installed_kb="$(du -sk --exclude=DEBIAN "$stage" | cut -f1)"
  cat > "$stage/DEBIAN/control" <<EOF
Package: $APP
Version: $2
Section: devel
Priority: optional
Architecture: amd64
Maintainer: Prompt Workbench maintainers <maintainers@promptworkbench.local>
Installed-Size: $installed_kb
Depends: libc6 (>= ${glibc:-2.28}), $(echo "$DEPENDS_BASE" | tr -d '\n')
Description: desktop workbench for LLM prompts, model comparisons and evals
 Author prompts as immutable numbered versions, run them side by side across
 Claude model tiers, label outputs, turn them into eval sets that run in CI,
 and export a versioned production config. Everything lives in one local
 SQLite project file.
EOF
  dpkg-deb --root-owner-group -Z"$DEB_COMPRESSION" --build "$stage" \
    "$DIST_DIR/${APP}_$2_amd64.deb" >/dev/null
  rm -rf "$BUILD_DIR/deb"
  echo "    $DIST_DIR/${APP}_$2_amd64.deb"
}

main() {
  local started=$SECONDS build=1 ver bundle
  [ "${1:-}" = "--no-build" ] && build=0
  command -v dpkg-deb >/dev/null || die "dpkg-deb is missing: apt-get install dpkg"
  command -v objdump >/dev/null || die "objdump is missing: apt-get install binutils"
  ver="$(version)"
  bundle="$BUILD_DIR/dist/$APP"
  [ "$build" = 1 ] && build_bundle
  [ -x "$bundle/workbench" ] || die "no bundle at $bundle; run without --no-build"
  check_cxx_abi "$bundle"
  mkdir -p "$DIST_DIR"
  echo "==> Packages"
  make_tarball "$bundle" "$ver"
  make_deb "$bundle" "$ver"
  echo "==> Sizes"
  du -sh "$bundle"
  du -h "$DIST_DIR/$APP-$ver-linux-x86_64.tar.gz" "$DIST_DIR/${APP}_${ver}_amd64.deb"
  echo "==> Done in $((SECONDS - started)) s"
}

main "$@"
