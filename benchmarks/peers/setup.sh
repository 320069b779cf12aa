#!/usr/bin/env bash
# Build the peers' THROWAWAY virtual environments for benchmarks/bench_env.py (never project
# dependencies; nothing here is committed). Default folder /tmp/mas_peers, or $MAS_LIB_PEERS.
#   bash benchmarks/peers/setup.sh          # ~1-2 minutes, needs PyPI
set -euo pipefail
DIR="${MAS_LIB_PEERS:-/tmp/mas_peers}"
PY="${PYTHON:-python3}"
mkdir -p "$DIR"

# or-gym 0.5.0 pins gym<=0.19.0, whose setup.py only builds with old setuptools/wheel, and uses
# np.Inf (removed in numpy 2): so numpy<2 and friends in its venv.
if [ ! -x "$DIR/orgym/bin/python" ]; then
  "$PY" -m venv "$DIR/orgym"
  "$DIR/orgym/bin/pip" install -q "setuptools<66" "wheel<0.38"
  "$DIR/orgym/bin/pip" install -q --no-build-isolation "gym==0.19.0"
  "$DIR/orgym/bin/pip" install -q "or-gym==0.5.0" "numpy<2" "pandas<2.3" "scipy<1.14"
fi

# gym-invmgmt installs as it is (gymnasium, networkx, scipy).
if [ ! -x "$DIR/invmgmt/bin/python" ]; then
  "$PY" -m venv "$DIR/invmgmt"
  "$DIR/invmgmt/bin/pip" install -q "gym-invmgmt==0.2.1"
fi
echo "peer venvs ready in $DIR"
