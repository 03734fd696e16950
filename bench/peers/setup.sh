#!/usr/bin/env bash
# Sets up the Python peers of the bench and says which ones can run.
#
#   bench/peers/setup.sh [VENV]        (default VENV: .cache/bench-venv)
#
# - TensorFlow (tensorflow-cpu 2.21) and JAX (jax/jaxlib 0.10.2, optax) are installed,
#   when missing, into the virtual environment VENV through pip's configured index.
#   The venv is made with $BENCH_PYTHON, else the first python3 on PATH.
# - PyTorch is Debian's python3-torch, for the system Python (/usr/bin/python3);
#   $TORCH_PYTHON names another interpreter that has torch. Debian builds it against
#   the generic BLAS interface (libblas.so.3), so its speed is that of the BLAS it
#   loads: about 10x apart between the reference BLAS and OpenBLAS. It runs, as
#   Debian's users who have numpy or scipy have it, on OpenBLAS: libopenblas0-pthread's
#   libblas.so.3, whose directory goes first on the peer's LD_LIBRARY_PATH: the
#   dynamic loader's per-process choice, which holds whatever the system's
#   libblas.so.3 alternative is (update-alternatives, Debian's documented switch,
#   would change it for every program, so it is left alone).
#   As root, python3-torch and libopenblas0-pthread are installed when missing
#   (apt-get, without recommends: those are libtorch-dev and build-essential); as
#   for anyone who installs OpenBLAS, Debian's alternatives in auto mode then make
#   it the system's libblas.so.3 too (a selection made by hand stays).
#   Debian's PyTorch without OpenBLAS is skipped, with what to run; another torch
#   (pip's brings its own BLAS) runs on what it loads. The report names the BLAS
#   library the peer's process actually mapped.
#
# Output, one line per peer (bench/peers.ts reads it; everything else goes to stderr):
#   ok <peer> <python>
#   skip <peer> <reason>
# and for a peer that runs with more in its environment, one line per variable:
#   env <peer> <NAME>=<value>
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

deb_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

find_torch() {
  torch_py=
  for py in ${TORCH_PYTHON:-} /usr/bin/python3 "$venv_py"; do
    if [ -n "$py" ] && [ -x "$py" ] && has "$py" torch numpy; then
      torch_py=$py
      return
    fi
  done
}

openblas_dir() { # the directory of OpenBLAS's libblas.so.3 (pthread build), from dpkg, else the multiarch path
  local lib
  lib=$(dpkg -L libopenblas0-pthread 2>/dev/null | grep '/libblas\.so\.3$' | head -n 1)
  if [ -z "$lib" ]; then
    local arch
    arch=$("${torch_py:-python3}" -c 'import sysconfig; print(sysconfig.get_config_var("MULTIARCH") or "")' 2>/dev/null)
    lib=/usr/lib/${arch:-$(uname -m)-linux-gnu}/openblas-pthread/libblas.so.3
  fi
  [ -e "$lib" ] && dirname "$lib"
}

torch_peer() {
  find_torch
  local want=()
  [ -z "$torch_py" ] && want+=(python3-torch)
  command -v dpkg-query >/dev/null 2>&1 && ! deb_installed libopenblas0-pthread && want+=(libopenblas0-pthread)
  if [ ${#want[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench setup: apt-get install ${want[*]} (Debian's PyTorch and the OpenBLAS it runs on; in auto mode Debian's alternatives make OpenBLAS the system's libblas.so.3 too)" >&2
    apt-get update -qq >&2 || echo "bench setup: apt-get update failed; trying the install with the package lists there are" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${want[@]}" >&2; then
      echo "skip pytorch apt-get could not install ${want[*]} (see the messages above)"
      return
    fi
    find_torch
  fi
  if [ -z "$torch_py" ]; then
    echo "skip pytorch torch is not installed for /usr/bin/python3: run (as root) apt-get update && apt-get install -y python3-torch libopenblas0-pthread, or set TORCH_PYTHON"
    return
  fi
  local dir
  dir=$(openblas_dir)
  if [ -n "$dir" ]; then
    echo "bench setup: PyTorch runs on OpenBLAS: $dir first on its LD_LIBRARY_PATH" >&2
    echo "ok pytorch $torch_py"
    echo "env pytorch LD_LIBRARY_PATH=$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  elif [ "$torch_py" = /usr/bin/python3 ] && deb_installed python3-torch; then
    echo "skip pytorch libopenblas0-pthread is not installed, and Debian's PyTorch on the reference BLAS is about 10x slower than its users have it: run (as root) apt-get install -y libopenblas0-pthread, or set TORCH_PYTHON"
  else # not Debian's build: it runs on the BLAS it brings or loads (the report names it)
    echo "bench setup: no OpenBLAS of Debian's found; $torch_py runs on the BLAS it loads" >&2
    echo "ok pytorch $torch_py"
  fi
}
torch_peer
