import math

import numpy as np
import pytest

from baselines.capacity import message_error_bound, outage_probability, shannon_limit_db


@pytest.mark.parametrize("rate, limit_db", [(3.75, 10.9531), (1.0, 0.0), (2.0, 4.7712), (0.234375, -7.5351)])
def test_shannon_limit_by_hand(rate, limit_db):
    assert shannon_limit_db(rate) == pytest.approx(limit_db, abs=1e-3)


def test_awgn_outage_is_a_step_at_the_shannon_limit():
    assert outage_probability("awgn", 10.9, 3.75) == 1.0
    assert outage_probability("awgn", 11.0, 3.75) == 0.0


def test_rayleigh_outage_by_hand():
    # P(|h|^2 < (2^R - 1) / snr) with |h|^2 ~ Exp(1): R = 1 bit, 10 dB -> 1 - exp(-0.1)
    assert outage_probability("rayleigh", 10.0, 1.0) == pytest.approx(1 - math.exp(-0.1))
    assert outage_probability("rayleigh", 0.0, 1.0) == pytest.approx(1 - math.exp(-1.0))


def test_rician_outage_against_monte_carlo():
    rng = np.random.default_rng(1)
    k = 1.0
    h = math.sqrt(k / (k + 1)) + math.sqrt(1 / (k + 1)) * (rng.standard_normal(400_000) + 1j * rng.standard_normal(400_000)) / math.sqrt(2)
    threshold = (2 ** 2.0 - 1) / 10 ** 0.5  # R = 2, 5 dB
    assert outage_probability("rician", 5.0, 2.0, k_factor=k) == pytest.approx(np.mean(np.abs(h) ** 2 < threshold), abs=3e-3)
    assert outage_probability("rician", 5.0, 2.0) < outage_probability("rayleigh", 5.0, 2.0)  # the line of sight helps


def test_a_message_over_several_fading_blocks_has_a_lower_outage():
    one = outage_probability("rayleigh", 5.0, 1.0)
    assert outage_probability("rayleigh", 5.0, 1.0, blocks=1) == one
    assert outage_probability("rayleigh", 5.0, 1.0, blocks=8) < one / 3
    assert message_error_bound("rayleigh", 5.0, 1.0, symbols_per_message=100) == one  # fits one 128-symbol block
    assert message_error_bound("rayleigh", 5.0, 1.0, symbols_per_message=1024) == outage_probability("rayleigh", 5.0, 1.0, blocks=8)
