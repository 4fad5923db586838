#!/usr/bin/env bash
# Re-create tests/vendor/axe-core: the accessibility engine tests/test_browser.py injects into
# every page of the built book (axe.min.js only; about 560 kB). It is a test tool, not part
# of the site, so it lives under tests/ (vendor/ is copied into the site).
# Source: the npm package axe-core (MPL-2.0, see tests/vendor/axe-core/LICENSE).
#   usage: tools/vendor_axe.sh [VERSION]     (default 4.14.1; needs npm)
set -euo pipefail
VERSION="${1:-4.14.1}"
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "axe-core@$VERSION" >/dev/null && tar xzf "axe-core-$VERSION.tgz")
rm -rf tests/vendor/axe-core
mkdir -p tests/vendor/axe-core
cp "$tmp/package/axe.min.js" "$tmp/package/LICENSE" tests/vendor/axe-core/
echo "axe-core $VERSION (npm), axe.min.js" > tests/vendor/axe-core/VERSION
du -sh tests/vendor/axe-core
