import pytest

from deepsc_st.config import CONFIGS, TIME_STRIDE, ModelConfig, get_config
from deepsc_st.frontend import FRAMES_PER_SECOND


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_config_shares_the_time_stride_and_round_trips(name):
    config = get_config(name)
    assert config.time_stride == TIME_STRIDE and FRAMES_PER_SECOND // TIME_STRIDE == 25
    assert config.symbols_per_step == 20
    assert ModelConfig.from_dict(config.to_dict()) == config


def test_unknown_config_lists_the_names():
    with pytest.raises(ValueError, match="unknown config 'huge'; choose one of paper, small, medium, tiny"):
        get_config("huge")
