# Sourced by scripts/bench-flumine and scripts/compare-flumine (from the
# repository root): the Python virtual environment with flumine, made once
# under target/ and reused. The versions are pinned because the fidelity
# analysis in docs/SIMULATION.md reads this flumine's simulation code.
FLUMINE_VERSION=3.3.2
BFLW_VERSION=2.24.0
venv=target/flumine-venv
py="$venv/bin/python"
if ! "$py" -c "import flumine, sys; sys.exit(flumine.__version__ != '$FLUMINE_VERSION')" 2>/dev/null; then
    python3 -m venv "$venv"
    "$py" -m pip install --quiet --disable-pip-version-check \
        "flumine==$FLUMINE_VERSION" "betfairlightweight==$BFLW_VERSION"
fi
