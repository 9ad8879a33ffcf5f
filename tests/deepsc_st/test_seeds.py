from baselines.bler_table import point_seed
from deepsc_st.augment import example_seed
from deepsc_st.codec_training import crop_seed
from deepsc_st.measure import measurement_seed
from deepsc_st.seeds import seed_from


def test_derived_seeds_keep_the_values_earlier_runs_drew():
    """Pinned values from before the four seed rules shared seed_from: stored results and resumed runs depend on them."""
    assert crop_seed(0, 3, 17) == 3318328859
    assert example_seed(0, 3, 17) == 4207973050
    assert measurement_seed(7, "deepsc-st", "rayleigh", -4.0) == 617256860
    assert measurement_seed(0, "speech", "awgn", 10) == measurement_seed(0, "speech", "awgn", 10.0) == 740213393
    assert point_seed(0, "awgn", 5, -3) == 3028863648


def test_seed_from_separates_its_parts():
    assert 0 <= seed_from("a", 1) < 2**32
    assert seed_from("a", 1) != seed_from("a", 2) != seed_from("a1")
