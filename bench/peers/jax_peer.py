"""JAX peer: NormalNet, AdvNet and GlanceAgain (with its transforms) as pure
functions, the whole train step (transforms, forward, backward, optax Adam) under
jax.jit, XLA on one thread:

    taskset -c 0 VENV/bin/python jax_peer.py --data DIR [--seconds S --reps R]

Transforms: jax.scipy.ndimage.map_coordinates (order 1 = bilinear, constant 0
outside), the inverse map about the pixel centre 13.5, each step resampling the
previous output, fresh draws per sample and batch (jax.random inside the step).
"""
import os

# One XLA thread: no multi-threaded Eigen, one intra-op thread (set before jax loads).
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
from jax.scipy.ndimage import map_coordinates  # noqa: E402

import common  # noqa: E402

C = common.CENTRE
UNITS = 64


def dense(key, n_in, n_out):
    bound = 1 / n_in**0.5
    k1, k2 = jax.random.split(key)
    return {"w": jax.random.uniform(k1, (n_in, n_out), minval=-bound, maxval=bound),
            "b": jax.random.uniform(k2, (n_out,), minval=-bound, maxval=bound)}


def lstm(key, n_in):
    bound = 1 / UNITS**0.5
    k1, k2, k3 = jax.random.split(key, 3)
    u = lambda k, shape: jax.random.uniform(k, shape, minval=-bound, maxval=bound)  # noqa: E731
    return {"input": u(k1, (n_in, 4 * UNITS)), "recurrent": u(k2, (UNITS, 4 * UNITS)), "bias": u(k3, (4 * UNITS,))}


def apply(p, x):
    return x @ p["w"] + p["b"]


def normal_forward(params, x):
    return jax.nn.log_softmax(apply(params["out"], jax.nn.relu(apply(params["base"], x))))


def lstm_layer(p, xs):
    """xs [n, T, in] -> all hidden states [n, T, 64]; the input projection of all steps at once."""
    n, steps, _ = xs.shape
    proj = xs @ p["input"] + p["bias"]
    h = jnp.zeros((n, UNITS))
    c = jnp.zeros((n, UNITS))
    out = []
    for t in range(steps):
        i, f, g, o = jnp.split(proj[:, t] + h @ p["recurrent"], 4, axis=1)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        out.append(h)
    return jnp.stack(out, 1)


def glance_forward(params, base, seq):
    n = seq.shape[0]
    h = jax.nn.relu(apply(params["decode"], jax.nn.relu(apply(base, seq))))  # [n, 6, 784]
    h = lstm_layer(params["lstm2"], lstm_layer(params["lstm1"], h))
    return jax.nn.log_softmax(apply(params["out"], h[:, -1].reshape(n, UNITS)))


_ys, _xs = jnp.meshgrid(jnp.arange(28.0), jnp.arange(28.0), indexing="ij")


def _warp(img, m):
    """Output pixel p samples c + m (p - c); img [28, 28], m [2, 2] (rows: x, y)."""
    sx = C + m[0, 0] * (_xs - C) + m[0, 1] * (_ys - C)
    sy = C + m[1, 0] * (_xs - C) + m[1, 1] * (_ys - C)
    return map_coordinates(img, [sy, sx], order=1, mode="constant", cval=0.0)


def glance_sequence(key, x):
    """x [n, 784] -> [n, 6, 784]: the image, then rotate, rotate, rotate, scale, rotate."""
    n = x.shape[0]
    ka, ks = jax.random.split(key)
    t = jnp.deg2rad(jax.random.uniform(ka, (n, 4), minval=-common.MAX_ANGLE, maxval=common.MAX_ANGLE))
    inv = 1.0 / jax.random.uniform(ks, (n,), minval=common.MIN_SCALE, maxval=common.MAX_SCALE)
    cos, sin = jnp.cos(t), jnp.sin(t)
    rot = jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)  # [n, 4, 2, 2]
    zero = jnp.zeros_like(inv)
    scale = jnp.stack([jnp.stack([inv, zero], -1), jnp.stack([zero, inv], -1)], -2)  # [n, 2, 2]
    maps = [rot[:, 0], rot[:, 1], rot[:, 2], scale, rot[:, 3]]
    cur = x.reshape(n, 28, 28)
    out = [cur]
    for m in maps:
        cur = jax.vmap(_warp)(cur, m)
        out.append(cur)
    return jnp.stack(out, 1).reshape(n, common.STEPS, 784)


def nll(logp, y):
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def make_step(kind):
    key = jax.random.PRNGKey(1)
    keys = jax.random.split(key, 6)
    opt = optax.adam(common.LR)
    if kind == "GlanceAgain":
        base = dense(keys[0], 784, 100)  # from NormalNet, frozen: a constant of the step, no gradient
        params = {"decode": dense(keys[1], 100, 784), "lstm1": lstm(keys[2], 784), "lstm2": lstm(keys[3], UNITS), "out": dense(keys[4], UNITS, 10)}

        def loss_fn(p, x, y, k):
            return nll(glance_forward(p, base, glance_sequence(k, x)), y)
    else:
        params = {"base": dense(keys[0], 784, 100), "out": dense(keys[1], 100, 10)}

        def clean(p, x, y):
            return nll(normal_forward(p, x), y)

        if kind == "AdvNet":
            def loss_fn(p, x, y, k):
                x_adv = jnp.clip(x + common.ADV_EPS * jnp.sign(jax.grad(clean, argnums=1)(p, x, y)), 0.0, 1.0)
                return common.ADV_MIX * clean(p, x, y) + (1 - common.ADV_MIX) * clean(p, x_adv, y)
        else:
            def loss_fn(p, x, y, k):
                return clean(p, x, y)

    @jax.jit
    def step(p, s, x, y, k):
        k, sub = jax.random.split(k)
        loss, g = jax.value_and_grad(loss_fn)(p, x, y, sub)
        updates, s = opt.update(g, s, p)
        return optax.apply_updates(p, updates), s, loss, k

    state = {"p": params, "s": opt.init(params), "k": keys[5]}

    def run(xb, yb):
        state["p"], state["s"], loss, state["k"] = step(state["p"], state["s"], xb, yb, state["k"])
        return loss

    return run


if __name__ == "__main__":
    common.main(
        "jax",
        {"jax": jax.__version__, "jaxlib": jax.lib.__version__ if hasattr(jax.lib, "__version__") else "?", "optax": optax.__version__},
        {"xla_flags": os.environ["XLA_FLAGS"], "devices": str(jax.devices())},
        {m: (lambda a, m=m: make_step(m)) for m in common.MODELS},
        sync=lambda loss: loss.block_until_ready() if loss is not None else None,
    )
