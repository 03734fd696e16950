"""TensorFlow 2.x / Keras peer: NormalNet, AdvNet and GlanceAgain (with its
transforms) as Keras models, trained at batch 64 by a tf.function train step
(GradientTape + keras Adam) on one intra-op and one inter-op thread:

    taskset -c 0 VENV/bin/python tf_peer.py --data DIR [--seconds S --reps R]

Transforms: tf.raw_ops.ImageProjectiveTransformV3 (bilinear, constant 0 fill),
the inverse map about the pixel centre 13.5, each step resampling the previous
output, fresh draws per sample and batch (tf.random inside the step).
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

import common  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
C = common.CENTRE


def normal_net():
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(100, activation="relu", name="base"), keras.layers.Dense(10, name="out")])


def glance_net():
    base = keras.layers.Dense(100, activation="relu", name="base")
    base.trainable = False  # from NormalNet, frozen
    return keras.Sequential([
        keras.Input((common.STEPS, 784)),
        base,
        keras.layers.Dense(784, activation="relu", name="decode"),
        keras.layers.LSTM(64, return_sequences=True, name="lstm1"),
        keras.layers.LSTM(64, name="lstm2"),
        keras.layers.Dense(10, name="out"),
    ])


def _warp(img, a, b, d, e):
    """Output pixel p samples c + [a b; d e](p - c); img [n, 28, 28, 1], a..e [n]."""
    zero = tf.zeros_like(a)
    transforms = tf.stack([a, b, C - a * C - b * C, d, e, C - d * C - e * C, zero, zero], 1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=img, transforms=transforms, output_shape=tf.constant([28, 28]),
        fill_value=tf.constant(0.0), interpolation="BILINEAR", fill_mode="CONSTANT")


def glance_sequence(x):
    """x [n, 784] -> [n, 6, 784]: the image, then rotate, rotate, rotate, scale, rotate."""
    n = tf.shape(x)[0]
    angles = tf.random.uniform([n, 4], -common.MAX_ANGLE, common.MAX_ANGLE) * (3.141592653589793 / 180)
    inv = 1.0 / tf.random.uniform([n], common.MIN_SCALE, common.MAX_SCALE)
    cos, sin = tf.cos(angles), tf.sin(angles)
    cur = tf.reshape(x, [n, 28, 28, 1])
    out = [cur]
    for k in range(5):
        if k == 3:
            cur = _warp(cur, inv, tf.zeros_like(inv), tf.zeros_like(inv), inv)
        else:
            r = k if k < 3 else 3
            cur = _warp(cur, cos[:, r], -sin[:, r], sin[:, r], cos[:, r])
        out.append(cur)
    return tf.reshape(tf.stack(out, 1), [n, common.STEPS, 784])


def nll(logits, y):
    logp = tf.nn.log_softmax(logits)
    return -tf.reduce_mean(tf.gather(logp, y, axis=1, batch_dims=1))


def make_step(model, adversarial=False, glance=False):
    opt = keras.optimizers.Adam(learning_rate=common.LR)

    @tf.function
    def step(x, y):
        if adversarial:
            with tf.GradientTape() as t:
                t.watch(x)
                adv_loss = nll(model(x, training=True), y)
            x_adv = tf.clip_by_value(x + common.ADV_EPS * tf.sign(t.gradient(adv_loss, x)), 0.0, 1.0)
        inp = glance_sequence(x) if glance else x
        with tf.GradientTape() as tape:
            loss = nll(model(inp, training=True), y)
            if adversarial:
                loss = common.ADV_MIX * loss + (1 - common.ADV_MIX) * nll(model(x_adv, training=True), y)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return lambda xb, yb: step(tf.constant(xb), tf.constant(yb)).numpy()


if __name__ == "__main__":
    tf.random.set_seed(1)
    keras.utils.set_random_seed(1)
    common.main(
        "tensorflow",
        {"tensorflow": tf.__version__, "keras": keras.__version__},
        {"intraop": tf.config.threading.get_intra_op_parallelism_threads(), "interop": tf.config.threading.get_inter_op_parallelism_threads()},
        {
            "NormalNet": lambda a: make_step(normal_net()),
            "AdvNet": lambda a: make_step(normal_net(), adversarial=True),
            "GlanceAgain": lambda a: make_step(glance_net(), glance=True),
        },
    )
