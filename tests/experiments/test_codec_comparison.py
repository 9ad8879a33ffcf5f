"""The Griffin-Lim ceiling of ``deepsc-st bench codecs`` (experiments/codec_comparison.py)."""

import dataclasses

from deepsc_st.config import CODEC_SMALL
from experiments.codec_comparison import griffin_lim_ceiling
from tests.deepsc_st.test_audio_quality import voiced


def test_griffin_lim_from_exact_magnitudes_scores_high_and_rises_with_iterations():
    speech = [voiced(1.5)]
    ceiling = griffin_lim_ceiling(CODEC_SMALL, speech)
    one_iteration = griffin_lim_ceiling(dataclasses.replace(CODEC_SMALL, griffin_lim_iterations=1), speech)
    assert ceiling["scored"] == {"pesq": 1, "stoi": 1}
    assert ceiling["stoi"] > 0.9 and ceiling["pesq"] > one_iteration["pesq"]
