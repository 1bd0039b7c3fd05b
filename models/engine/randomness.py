"""The engine's random numbers: a counter-based hash of (seed, epoch, step), cheap under XLA and identical
with or without it, so a run depends only on its settings, never on a global seed or another thread."""
import tensorflow as tf

_GOLDEN = 0x9E3779B9
SHUFFLE_STREAM = 0x5EED


def _mix(x):
    """A 32-bit integer hash with good avalanche (the "lowbias32" finaliser)."""
    shift, xor = tf.bitwise.right_shift, tf.bitwise.bitwise_xor
    x = xor(x, shift(x, tf.constant(16, tf.uint32))) * tf.constant(0x7FEB352D, tf.uint32)
    x = xor(x, shift(x, tf.constant(15, tf.uint32))) * tf.constant(0x846CA68B, tf.uint32)
    return xor(x, shift(x, tf.constant(16, tf.uint32)))


def hash_key(*parts) -> tf.Tensor:
    """Combine non-negative integers (seed, epoch, step, ...) into one uint32 key."""
    key = tf.constant(_GOLDEN, tf.uint32)
    for part in parts:
        key = _mix(tf.bitwise.bitwise_xor(key, tf.cast(part, tf.uint32)) + tf.constant(_GOLDEN, tf.uint32))
    return key


def random_bits(key, shape) -> tf.Tensor:
    """uint32 pseudo-random bits of `shape`, a pure function of `key`."""
    count = tf.reduce_prod(shape)
    index = tf.cast(tf.range(count), tf.uint32)
    return tf.reshape(_mix(_mix(index * tf.constant(_GOLDEN, tf.uint32) + key) + key), shape)


def random_uniform(key, shape) -> tf.Tensor:
    """Floats uniform in [0, 1) with 24 random bits each."""
    bits = tf.bitwise.right_shift(random_bits(key, shape), tf.constant(8, tf.uint32))
    return tf.cast(bits, tf.float32) * (1.0 / 2**24)


def apply_dropout(h, rate: float, key) -> tf.Tensor:
    """Training-time dropout: zero each value with probability `rate`, scale the kept ones by 1/(1 - rate)."""
    keep = random_uniform(key, tf.shape(h)) >= rate
    return tf.where(keep, h / (1.0 - rate), tf.zeros_like(h))
