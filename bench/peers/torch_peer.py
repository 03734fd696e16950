"""PyTorch peer: NormalNet, AdvNet and GlanceAgain (with its transforms) trained at
batch 64 on one thread. Run with the Python that has torch (Debian's python3-torch
lives in the system /usr/bin/python3), from bench/peers/:

    taskset -c 0 /usr/bin/python3 torch_peer.py --data DIR [--seconds S --reps R]

Debian's torch is built for the generic BLAS interface and runs on the libblas.so.3
it loads; the bench (setup.sh) puts OpenBLAS's first on LD_LIBRARY_PATH, e.g.
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread. The JSON line names the
BLAS library mapped in this process ("blas"), not torch's build setting.

Transforms: F.affine_grid + F.grid_sample (bilinear, zero padding,
align_corners=False, so the centre of the map is the pixel centre 13.5), each step
resampling the previous output, fresh draws per sample and batch.
"""
import os
import re

# One BLAS thread, one OpenMP thread: read when the libraries load, so before torch.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import common  # noqa: E402

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


class NormalNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Linear(784, 100)
        self.out = nn.Linear(100, 10)

    def forward(self, x):
        return F.log_softmax(self.out(F.relu(self.base(x))), dim=1)


def glance_sequence(x):
    """x [n, 784] -> [n, 6, 784]: the image, then rotate, rotate, rotate, scale, rotate."""
    n = x.shape[0]
    angles = torch.deg2rad(torch.rand(n, 4) * (2 * common.MAX_ANGLE) - common.MAX_ANGLE)
    scales = torch.rand(n) * (common.MAX_SCALE - common.MIN_SCALE) + common.MIN_SCALE
    cos, sin = torch.cos(angles), torch.sin(angles)
    zero = torch.zeros(n)
    cur = x.view(n, 1, 28, 28)
    out = [cur]
    for k in range(5):
        if k == 3:
            inv = 1.0 / scales
            row0, row1 = torch.stack([inv, zero, zero], 1), torch.stack([zero, inv, zero], 1)
        else:
            r = k if k < 3 else 3
            c, s = cos[:, r], sin[:, r]
            row0, row1 = torch.stack([c, -s, zero], 1), torch.stack([s, c, zero], 1)
        theta = torch.stack([row0, row1], 1)  # [n, 2, 3]: the inverse map, source = theta @ (output, 1)
        grid = F.affine_grid(theta, [n, 1, 28, 28], align_corners=False)
        cur = F.grid_sample(cur, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        out.append(cur)
    return torch.stack(out, 1).view(n, common.STEPS, 784)


class GlanceAgain(nn.Module):
    def __init__(self):
        super().__init__()
        self.base = nn.Linear(784, 100)  # from NormalNet, frozen
        self.base.requires_grad_(False)
        self.decode = nn.Linear(100, 784)
        self.lstm = nn.LSTM(784, 64, num_layers=2, batch_first=True)
        self.out = nn.Linear(64, 10)

    def forward(self, x):
        with torch.no_grad():
            seq = glance_sequence(x)
        h = F.relu(self.decode(F.relu(self.base(seq))))
        o, _ = self.lstm(h)
        return F.log_softmax(self.out(o[:, -1]), dim=1)


def make_step(model, adversarial=False):
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=common.LR)

    def step(xb, yb):
        x = torch.from_numpy(xb)
        y = torch.from_numpy(yb).long()
        if adversarial:
            xg = x.clone().requires_grad_(True)
            (g,) = torch.autograd.grad(F.nll_loss(model(xg), y), xg)
            x_adv = (x + common.ADV_EPS * g.sign()).clamp(0, 1)
        opt.zero_grad(set_to_none=True)
        loss = F.nll_loss(model(x), y)
        if adversarial:
            loss = common.ADV_MIX * loss + (1 - common.ADV_MIX) * F.nll_loss(model(x_adv), y)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def blas_build():
    """BLAS_INFO from the build settings ("generic" for Debian's build: whatever libblas.so.3 loads)."""
    found = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def blas_loaded():
    """The BLAS library this process runs on, read after a first matmul."""
    torch.mm(torch.ones(64, 64), torch.ones(64, 64))
    return common.loaded_blas()


if __name__ == "__main__":
    torch.manual_seed(1)
    common.main(
        "pytorch",
        {"torch": torch.__version__, "built for BLAS": blas_build()},
        {"intraop": torch.get_num_threads(), "interop": torch.get_num_interop_threads()},
        {
            "NormalNet": lambda a: make_step(NormalNet()),
            "AdvNet": lambda a: make_step(NormalNet(), adversarial=True),
            "GlanceAgain": lambda a: make_step(GlanceAgain()),
        },
        blas=blas_loaded(),
    )
