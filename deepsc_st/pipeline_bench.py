"""Is the tf.data pipeline fast enough? Batches per second against training steps per second.

Both are measured in the same run on the same corpus: the pipeline alone
(spectrograms, bucketing, padding from waveforms in memory) and the training
step of a configuration consuming those very batches.
"""

from __future__ import annotations

import time

import keras
import tensorflow as tf

from deepsc_st.config import get_config
from deepsc_st.data import load_utterances, training_dataset
from deepsc_st.frontend import FRAMES_PER_SECOND
from deepsc_st.model import build_model


def run_pipeline_benchmark(data_dir, config_name: str = "small", batch_size: int = 16, batches: int = 40, train_steps: int = 5) -> dict:
    """Pipeline batches/s, training steps/s of ``config_name`` on the same batches, and their ratio."""
    config = get_config(config_name)
    start = time.perf_counter()
    loaded = load_utterances(data_dir, "train", batch_size * batches * 2)
    load_s = time.perf_counter() - start

    iterator = iter(training_dataset(loaded, batch_size, seed=0).repeat())
    next(iterator)  # warm-up: builds the graph of the feature map
    start = time.perf_counter()
    audio_s = 0.0
    for _ in range(batches):
        batch = next(iterator)
        audio_s += float(tf.reduce_sum(batch["frames"])) / FRAMES_PER_SECOND
    pipeline_s = time.perf_counter() - start

    model = build_model(config, "rician")
    model.compile(optimizer=keras.optimizers.Adam(1e-4), jit_compile=False)
    step = tf.function(model.train_step, reduce_retracing=True)
    step(next(iterator))  # trace
    start = time.perf_counter()
    for _ in range(train_steps):
        step(next(iterator))
    train_s = time.perf_counter() - start
    pipeline_rate = batches / pipeline_s
    train_rate = train_steps / train_s
    return {
        "config": config_name,
        "batch_size": batch_size,
        "audio_load_s": load_s,
        "utterances_loaded": len(loaded),
        "pipeline_batches_per_s": pipeline_rate,
        "pipeline_audio_seconds_per_s": audio_s / pipeline_s,
        "train_steps_per_s": train_rate,
        "pipeline_over_training": pipeline_rate / train_rate,
    }
