"""Shared test setup: quiet TensorFlow, fixed seeds."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _seed():
    import numpy as np
    import sionna.phy
    import tensorflow as tf

    sionna.phy.config.seed = 1234
    tf.random.set_seed(1234)
    np.random.seed(1234)
