#!/usr/bin/env bash
# Rebuild static/vendor/ from the npm registry (the files are committed, so
# neither CI nor a demo needs npm; run this only to change a version).
# No CDN: the pages load these from Datapunk's own static files.
set -euo pipefail
cd "$(dirname "$0")/.."
LEAFLET=1.9.4 LEAFLET_HEAT=0.2.0 CHARTJS=4.6.1
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack -q "leaflet@$LEAFLET" "leaflet.heat@$LEAFLET_HEAT" "chart.js@$CHARTJS" >/dev/null)
for name in leaflet leaflet.heat chart.js; do
  mkdir -p "$work/$name" && tar xzf "$work/$name"-*.tgz -C "$work/$name"
done
rm -rf static/vendor/leaflet static/vendor/leaflet.heat static/vendor/chartjs
mkdir -p static/vendor/leaflet static/vendor/leaflet.heat static/vendor/chartjs
cp -r "$work/leaflet/package/dist/"{leaflet.js,leaflet.css,images} "$work/leaflet/package/LICENSE" static/vendor/leaflet/
cp "$work/leaflet.heat/package/dist/leaflet-heat.js" "$work/leaflet.heat/package/LICENSE" static/vendor/leaflet.heat/
cp "$work/chart.js/package/dist/chart.umd.min.js" "$work/chart.js/package/LICENSE.md" static/vendor/chartjs/
echo "vendored leaflet $LEAFLET, leaflet.heat $LEAFLET_HEAT, chart.js $CHARTJS into static/vendor/"
