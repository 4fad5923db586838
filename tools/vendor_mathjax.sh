#!/usr/bin/env bash
# Re-create vendor/mathjax: the part of MathJax 3 the HTML book needs to render equations
# with no network (the TeX input with every extension, the CommonHTML output, its fonts).
# _config.yml copies vendor/ into the site (html_extra_path) and points mathjax_path at it.
# Source: the npm package mathjax (Apache-2.0, see vendor/mathjax/LICENSE); about 1.7 MB.
#   usage: tools/vendor_mathjax.sh [VERSION]     (default 3.2.2; needs npm)
set -euo pipefail
VERSION="${1:-3.2.2}"
cd "$(dirname "$0")/.."
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$VERSION" >/dev/null && tar xzf "mathjax-$VERSION.tgz")
rm -rf vendor/mathjax
mkdir -p vendor/mathjax/output/chtml/fonts
cp "$tmp/package/es5/tex-chtml-full.js" vendor/mathjax/
cp -r "$tmp/package/es5/output/chtml/fonts/woff-v2" vendor/mathjax/output/chtml/fonts/
cp "$tmp/package/LICENSE" vendor/mathjax/LICENSE
echo "mathjax $VERSION (npm), es5/tex-chtml-full.js and es5/output/chtml/fonts/woff-v2" \
  > vendor/mathjax/VERSION
du -sh vendor/mathjax
