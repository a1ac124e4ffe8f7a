# Sourced: makes target/report-venv with Playwright (driving Debian's
# Chromium, which scripts/setup installs) and sets $py to its Python.
venv=target/report-venv
py="$venv/bin/python"
PLAYWRIGHT_VERSION=1.64.1
if ! "$py" -c "import importlib.metadata as m, sys; sys.exit(m.version('playwright') != '$PLAYWRIGHT_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv"
    "$py" -m pip install --quiet --disable-pip-version-check "playwright==$PLAYWRIGHT_VERSION"
fi
