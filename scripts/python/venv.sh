# Sourced by scripts/check-python and scripts/bench-python (from the
# repository root): the Python virtual environment with componentize-py
# (the version `clever build` pins) and pytest, made once under target/
# and reused. Exported as CLEVER_PYTHON_VENV, so `clever build` uses it
# instead of making its own in the user's cache.
COMPONENTIZE_PY_VERSION=0.25.1
PYTEST_VERSION=9.2.0
venv=target/python-venv
py="$venv/bin/python"
if ! "$venv/bin/componentize-py" --version 2>/dev/null | grep -q "$COMPONENTIZE_PY_VERSION" \
    || ! "$py" -c "import pytest, sys; sys.exit(pytest.__version__ != '$PYTEST_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv"
    "$py" -m pip install --quiet --disable-pip-version-check \
        "componentize-py==$COMPONENTIZE_PY_VERSION" "pytest==$PYTEST_VERSION"
fi
CLEVER_PYTHON_VENV=$PWD/$venv
export CLEVER_PYTHON_VENV
