"""Shared by the peers: arguments, MNIST from the IDX files, the timing protocol
and the JSON line each peer prints.

Protocol (the same as glance's bench/worker.ts): for each model, warm-up steps
(the first ones compile, for JAX and tf.function) give a rough rate, which sets
the steps per repetition so that one repetition takes about --seconds; then
--reps repetitions over freshly shuffled batches of --batch images, each timed
in wall-clock and in process CPU seconds. The caller takes medians.

Each peer prints exactly one line to stdout: {"peer": ..., "versions": ...,
"models": {model: {"samplesPerSec": [...], "cpuSamplesPerSec": [...], ...}}}, and
a peer that runs on a BLAS library says which one its process loaded ("blas").
"""
import argparse
import ctypes
import gzip
import json
import math
import os
import re
import struct
import sys
import time

import numpy as np

MODELS = ("NormalNet", "AdvNet", "GlanceAgain")
STEPS = 6  # images in one GlanceAgain sequence: the input and 5 transforms
CENTRE = 13.5  # (28 - 1) / 2, the centre of rotation and scaling, in pixels
MAX_ANGLE = 30.0  # degrees, U[-30, 30]
MIN_SCALE, MAX_SCALE = 0.5, 2.0
ADV_EPS, ADV_MIX = 0.3, 0.5  # AdvNet: FGSM in pixel units, clipped to [0, 1]; weight of the clean loss
LR = 1e-3


# Shared objects of a BLAS: the reference or any libblas.so.3 alternative, OpenBLAS,
# MKL, BLIS, FlexiBLAS (LAPACK, which calls the BLAS, is left out).
BLAS_LIB = re.compile(r"^lib(blas|cblas|openblas|mkl_|blis|flexiblas)[\w.+-]*\.so(\.[\d.]+)?$")


def loaded_blas():
    """The BLAS libraries mapped in this process (read /proc/self/maps after a first
    matmul, so that a lazily loaded one is there): {"loaded": [{"path", "realpath"}],
    "config": OpenBLAS's openblas_get_config() when it is one of them}, and
    OpenBLAS's thread count ("threads")."""
    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                fields = line.split(None, 5)
                path = fields[5].strip() if len(fields) == 6 else ""
                if path.startswith("/") and BLAS_LIB.match(os.path.basename(path)) and path not in paths:
                    paths.append(path)
    except OSError as e:
        return {"loaded": [], "config": f"cannot read /proc/self/maps: {e}"}
    paths.sort(key=lambda p: not os.path.basename(p).startswith("libblas"))  # the libblas.so.3 the program asked for first
    out = {"loaded": [{"path": p, "realpath": os.path.realpath(p)} for p in paths]}
    for p in paths:  # OpenBLAS says its version, the kernel it chose and its threads
        try:
            lib = ctypes.CDLL(p, mode=os.RTLD_NOLOAD | os.RTLD_LOCAL)
            lib.openblas_get_config.restype = ctypes.c_char_p
            out["config"] = lib.openblas_get_config().decode()
            out["threads"] = lib.openblas_get_num_threads()
            break
        except (OSError, AttributeError):
            continue
    return out


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--data", required=True, help="directory with the MNIST IDX files")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seconds", type=float, default=2.0, help="target seconds per repetition")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--warmup-seconds", type=float, default=0.5)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    for m in args.models:
        if m not in MODELS:
            p.error(f"unknown model {m!r}; expected one of {', '.join(MODELS)}")
    return args


def _read(path):
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            with open(candidate, "rb") as f:
                raw = f.read()
            return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    raise FileNotFoundError(f"IDX file not found: {path}(.gz)")


def load_train(data_dir):
    """The training split as float32 [60000, 784] in [0, 1] and int32 labels."""
    images = _read(os.path.join(data_dir, "train-images-idx3-ubyte"))
    labels = _read(os.path.join(data_dir, "train-labels-idx1-ubyte"))
    magic, count, rows, cols = struct.unpack(">IIII", images[:16])
    if magic != 0x803:
        raise ValueError(f"bad image magic {magic:#x}")
    lmagic, lcount = struct.unpack(">II", labels[:8])
    if lmagic != 0x801 or lcount != count:
        raise ValueError("bad label file")
    x = np.frombuffer(images, dtype=np.uint8, offset=16).reshape(count, rows * cols).astype(np.float32) / 255.0
    y = np.frombuffer(labels, dtype=np.uint8, offset=8).astype(np.int32)
    return x, y


class Timer:
    """Wall-clock and process-CPU seconds of a block."""

    def __enter__(self):
        self.w0 = time.perf_counter()
        self.c0 = time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.w0
        self.cpu = time.process_time() - self.c0


def measure(args, x, y, step, sync):
    """Runs the protocol for one model: step(xb, yb) trains on one batch and returns
    its loss (any object); sync(loss) waits for it (JAX's async dispatch)."""
    rng = np.random.default_rng(args.seed)
    n = x.shape[0]
    batch = args.batch
    per_epoch = n // batch

    def run(steps):
        order = rng.permutation(n)
        loss = None
        for k in range(steps):
            j = (k % per_epoch) * batch
            if j == 0 and k > 0:
                order = rng.permutation(n)
            idx = order[j : j + batch]
            loss = step(x[idx], y[idx])
        sync(loss)

    with Timer() as first:  # compilation, first allocations
        run(2)
    warm_steps = 4
    while True:
        with Timer() as t:
            run(warm_steps)
        if t.wall >= args.warmup_seconds or warm_steps >= 4096:
            break
        warm_steps *= 2
    rate = warm_steps / max(t.wall, 1e-9)
    steps = max(4, min(per_epoch, int(math.ceil(rate * args.seconds))))
    wall, cpu = [], []
    for _ in range(args.reps):
        with Timer() as t:
            run(steps)
        wall.append(steps * batch / t.wall)
        cpu.append(steps * batch / max(t.cpu, 1e-9))
    return {
        "samplesPerSec": wall,
        "cpuSamplesPerSec": cpu,
        "stepsPerRep": steps,
        "batch": batch,
        "firstStepsSeconds": first.wall,
    }


def main(peer, versions, threads, builders, sync=lambda loss: None, note=None, blas=None):
    """builders: model name -> function(args) returning a fresh step(xb, yb) -> loss;
    blas: loaded_blas() of the peer's process, when it runs on a BLAS library."""
    args = parse_args(f"{peer} peer of glance-bench")
    x, y = load_train(args.data)
    out = {"peer": peer, "versions": versions, "threads": threads, "batch": args.batch, "models": {}}
    if blas is not None:
        out["blas"] = {k: v for k, v in blas.items() if k != "threads"}
        if "threads" in blas:
            out["threads"] = {**threads, "openblas": blas["threads"]}
        shown = ", ".join(b["path"] for b in blas["loaded"]) or "none mapped"
        print(f"  {peer} BLAS loaded: {shown}", file=sys.stderr, flush=True)
    if note:
        out["note"] = note
    for model in args.models:
        try:
            r = measure(args, x, y, builders[model](args), sync)
            shown = f"{sorted(r['samplesPerSec'])[len(r['samplesPerSec']) // 2]:.0f}/s"
        except Exception as e:  # a failed model is a result, not a crash of the peer
            r = {"error": f"{type(e).__name__}: {e}"}
            shown = r["error"]
        out["models"][model] = r
        print(f"  {peer} train {model}: {shown}", file=sys.stderr, flush=True)
    print(json.dumps(out), flush=True)
