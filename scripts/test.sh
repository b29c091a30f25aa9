#!/usr/bin/env bash
# Runs every test. Besides the Rust toolchain, the document tests need an independent ESC/POS
# decoder (emupos, on Python >= 3.13), the export tests openpyxl and the API contract test
# Schemathesis, all installed here into a virtualenv beside the build from
# tests/python-requirements.txt;
# zbarimg (Debian: zbar-tools) to read QR codes back and poppler (poppler-utils) to read PDFs
# back, and PostgreSQL (Debian: postgresql) for the server's storage conformance suite, started
# here as a throwaway cluster by scripts/with-postgres.sh; the Kotlin tests need a JDK (17+) and
# Maven, which fetches the Kotlin compiler, JNA, JUnit and the Android framework jar from Maven
# Central; the review pages' browser tests need Chromium and Node.js, and fetch playwright-core
# and axe-core from the npm registry into the build folder. .ci/run installs the Debian packages.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
target=${CARGO_TARGET_DIR:-$repo/target}
venv=$target/test-venv

find_python313() {
  # pyenv's shims exist for versions that are not selected, so each candidate is run.
  for candidate in "${PYENV_ROOT:-${HOME:-/root}/.pyenv}"/versions/3.1[3-9]*/bin/python3 python3.13 python3; do
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 13))' >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

if ! "$venv/bin/python" -c "import emupos, openpyxl, schemathesis" >/dev/null 2>&1; then
  python=$(find_python313) || {
    echo "Python 3.13 is needed for the ESC/POS decoder (emupos); none found" >&2
    exit 1
  }
  mkdir -p "$target"
  "$python" -m venv --clear "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$repo/tests/python-requirements.txt"
fi
command -v zbarimg >/dev/null || {
  echo "zbarimg is needed to read QR codes back: apt-get install zbar-tools" >&2
  exit 1
}
command -v pdftotext >/dev/null || {
  echo "poppler is needed to read PDFs back: apt-get install poppler-utils" >&2
  exit 1
}
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || {
  echo "PostgreSQL is needed for the server's storage tests: apt-get install postgresql" >&2
  exit 1
}

# The review pages are tested in Debian's Chromium, driven by playwright-core (one pinned
# tarball from the npm registry, no dependencies, checked against its published integrity).
chromium=${ANJIAN_CHROMIUM:-/usr/lib/chromium/chromium}
[ -x "$chromium" ] || {
  echo "Chromium is needed for the review pages' browser tests: apt-get install chromium" >&2
  exit 1
}
command -v node >/dev/null || {
  echo "Node.js is needed to drive the browser tests: apt-get install nodejs" >&2
  exit 1
}
# One pinned npm package, unpacked into $target/NAME-VERSION unless FILE is already there; the
# tarball must match its published integrity (`npm view NAME@VERSION dist.integrity`).
fetch_npm_package() {
  local name=$1 version=$2 expected=$3 file=$4
  local dir=$target/$name-$version
  [ -f "$dir/$file" ] && return 0
  mkdir -p "$target"
  local tarball
  tarball=$(mktemp)
  curl -fsSL -o "$tarball" "https://registry.npmjs.org/$name/-/$name-$version.tgz"
  if [ "sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)" != "$expected" ]; then
    echo "$name $version does not match its published integrity" >&2
    rm -f "$tarball"
    exit 1
  fi
  mkdir -p "$dir"
  tar xzf "$tarball" -C "$dir" --strip-components=1
  rm -f "$tarball"
}
playwright_version=1.61.1
playwright=$target/playwright-core-$playwright_version
fetch_npm_package playwright-core $playwright_version \
  "sha512-h7Qlt6m4REp25qvIdvbDtVmD4LqVXfpRxhORv9L0jzETM05p4fuPJ3dKyuSXQxDSbXnmS79HAgi9589lGSpLkg==" \
  package.json
# axe-core checks the pages for accessibility faults in the same browser tests.
axe_version=4.14.1
axe=$target/axe-core-$axe_version
fetch_npm_package axe-core $axe_version \
  "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==" \
  axe.min.js

command -v mvn >/dev/null && command -v javac >/dev/null || {
  echo "A JDK and Maven are needed for the Kotlin tests: apt-get install openjdk-17-jdk-headless maven" >&2
  exit 1
}

export ANJIAN_TEST_PYTHON=$venv/bin/python
export ANJIAN_CHROMIUM=$chromium
export ANJIAN_PLAYWRIGHT=$playwright
export ANJIAN_AXE=$axe
cd "$repo"
# Every Rust test, then the Kotlin bindings' JVM tests and the Android shell's build (xtask).
"$repo/scripts/with-postgres.sh" cargo xtask test
