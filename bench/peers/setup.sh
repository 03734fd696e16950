#!/usr/bin/env bash
# Sets up the Python peers of the bench and says which ones can run.
#
#   bench/peers/setup.sh [VENV]        (default VENV: .cache/bench-venv)
#
# - TensorFlow (tensorflow-cpu 2.21) and JAX (jax/jaxlib 0.10.2, optax) are installed,
#   when missing, into the virtual environment VENV through pip's configured index.
#   The venv is made with $BENCH_PYTHON, else the first python3 on PATH.
# - PyTorch is Debian's python3-torch, for the system Python (/usr/bin/python3);
#   $TORCH_PYTHON names another interpreter that has torch. It is not installed
#   from here (apt is not pip): without it the line says what to run.
#
# Output, one line per peer (bench/peers.ts reads it; everything else goes to stderr):
#   ok <peer> <python>
#   skip <peer> <reason>
set -u
VENV=${1:-.cache/bench-venv}
PY=${BENCH_PYTHON:-python3}
TF_SPEC='tensorflow-cpu==2.21.*'
JAX_SPECS=('jax==0.10.2' 'jaxlib==0.10.2' 'optax')

has() { # has PYTHON MODULE...: every module importable (found, not imported: importing TF takes seconds)
  local py=$1
  shift
  "$py" - "$@" >/dev/null 2>&1 <<'EOF'
import importlib.util, sys
sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)
EOF
}

venv_py="$VENV/bin/python"
if [ ! -x "$venv_py" ]; then
  echo "bench setup: creating $VENV with $PY" >&2
  if ! "$PY" -m venv "$VENV" >&2; then
    echo "skip tensorflow cannot create a virtual environment with $PY (install python3-venv, or set BENCH_PYTHON)"
    echo "skip jax cannot create a virtual environment with $PY (install python3-venv, or set BENCH_PYTHON)"
    venv_py=
  fi
fi

install() { # install PEER MODULES SPECS...
  local peer=$1 modules=$2
  shift 2
  # shellcheck disable=SC2086
  if has "$venv_py" $modules; then
    echo "ok $peer $venv_py"
    return
  fi
  echo "bench setup: pip install $* into $VENV (through pip's configured index)" >&2
  # shellcheck disable=SC2086
  if "$venv_py" -m pip install --quiet "$@" >&2 && has "$venv_py" $modules; then
    echo "ok $peer $venv_py"
  else
    echo "skip $peer pip could not install $* into $VENV (see the messages above)"
  fi
}

if [ -n "$venv_py" ]; then
  install tensorflow 'tensorflow keras numpy' "$TF_SPEC"
  install jax 'jax jaxlib optax numpy' "${JAX_SPECS[@]}"
fi

torch_py=
for py in ${TORCH_PYTHON:-} /usr/bin/python3 "$venv_py"; do
  if [ -n "$py" ] && [ -x "$py" ] && has "$py" torch numpy; then
    torch_py=$py
    break
  fi
done
if [ -n "$torch_py" ]; then
  echo "ok pytorch $torch_py"
else
  echo "skip pytorch torch is not installed for /usr/bin/python3: run (as root) apt-get update && apt-get install -y python3-torch, or set TORCH_PYTHON"
fi
