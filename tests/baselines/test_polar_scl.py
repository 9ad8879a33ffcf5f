import numpy as np
import pytest
import tensorflow as tf
from sionna.phy.fec.polar import PolarEncoder, PolarSCLDecoder
from sionna.phy.fec.polar.utils import generate_5g_ranking

from baselines.polar_bench import bpsk_awgn_logits
from baselines.polar_scl import FastPolarSCLDecoder


def block_errors(decoded, bits):
    return np.any(decoded != bits, axis=-1)


@pytest.mark.parametrize("n,k,list_size", [(64, 32, 1), (128, 64, 4), (512, 256, 8), (256, 100, 2)])
@pytest.mark.parametrize("scale", [0.5, 8.0, 1e4])
def test_noiseless_logits_decode_without_errors(n, k, list_size, scale):
    rng = np.random.default_rng(n + k)
    frozen_pos, _ = generate_5g_ranking(k, n)
    bits = rng.integers(0, 2, size=(50, k)).astype(np.float32)
    code = PolarEncoder(frozen_pos, n)(tf.constant(bits)).numpy()
    logits = (-scale * (1.0 - 2.0 * code)).astype(np.float32)
    decoded = FastPolarSCLDecoder(frozen_pos, n, list_size).decode(logits)
    assert decoded.dtype == np.float32 and decoded.shape == (50, k)
    np.testing.assert_array_equal(decoded, bits)


def test_logits_sign_convention_is_sionnas():
    frozen_pos, bits, logits = bpsk_awgn_logits(128, 64, 100, ebno_db=6.0, seed=1)
    decoder = FastPolarSCLDecoder(frozen_pos, 128, 4)
    assert not block_errors(decoder(logits), bits).any()
    assert block_errors(decoder(-logits), bits).all()  # log p(0)/p(1) is the wrong input


@pytest.mark.slow  # Sionna's CPU decoder
@pytest.mark.parametrize("ebno_db", [1.0, 2.0])
def test_matches_sionna_cpu_only_decoder(ebno_db):
    frozen_pos, bits, logits = bpsk_awgn_logits(512, 256, 300, ebno_db, seed=int(10 * ebno_db))
    ours = FastPolarSCLDecoder(frozen_pos, 512, 4)(logits)
    reference = PolarSCLDecoder(frozen_pos, 512, list_size=4, cpu_only=True)(tf.constant(logits)).numpy()
    agreement = np.mean(np.all(ours == reference, axis=-1))
    ours_bler, reference_bler = block_errors(ours, bits).mean(), block_errors(reference, bits).mean()
    assert agreement >= 0.99
    assert 0.01 <= reference_bler <= 0.5  # informative: decisions are not trivial
    assert abs(ours_bler - reference_bler) <= 0.02


@pytest.mark.slow
def test_matches_sionna_tensorflow_decoder():
    # the default (non cpu_only) TF decoder, run eagerly: a graph of it takes minutes to build
    frozen_pos, bits, logits = bpsk_awgn_logits(128, 64, 300, ebno_db=1.5, seed=3)
    ours = FastPolarSCLDecoder(frozen_pos, 128, 4)(logits)
    reference = PolarSCLDecoder(frozen_pos, 128, list_size=4)(tf.constant(logits)).numpy()
    assert 0.01 <= block_errors(reference, bits).mean() <= 0.5
    assert np.mean(np.all(ours == reference, axis=-1)) >= 0.99


def test_batch_split_and_shape_do_not_change_decisions():
    frozen_pos, _, logits = bpsk_awgn_logits(256, 128, 37, ebno_db=1.0, seed=4)
    decoder = FastPolarSCLDecoder(frozen_pos, 256, 4)
    batch = decoder(logits)
    one_by_one = np.concatenate([decoder(logits[i:i + 1]) for i in range(37)])
    np.testing.assert_array_equal(batch, one_by_one)
    shaped = decoder(logits[:36].reshape(2, 3, 6, 256))
    assert shaped.shape == (2, 3, 6, 128)
    np.testing.assert_array_equal(shaped.reshape(36, 128), batch[:36])
    assert decoder(logits[:0]).shape == (0, 128)
    assert set(np.unique(batch)) <= {0.0, 1.0}


def test_rejects_invalid_arguments():
    with pytest.raises(ValueError):
        FastPolarSCLDecoder(np.arange(3), 48)
    with pytest.raises(ValueError):
        FastPolarSCLDecoder(np.arange(32), 64, list_size=0)
    with pytest.raises(ValueError):
        FastPolarSCLDecoder(np.array([0, 64]), 64)
    with pytest.raises(ValueError):
        FastPolarSCLDecoder(np.array([3, 3]), 64)
    with pytest.raises(ValueError):
        FastPolarSCLDecoder(np.arange(32), 64)(np.zeros((2, 32), np.float32))


def test_benchmark_table_shows_every_measurement():
    from baselines.polar_bench import format_polar_benchmark

    result = {
        "n": 512, "k": 256, "list_size": 4, "ebno_db": 1.5, "seed": 0, "codewords": 20000,
        "graph_codewords": 200, "cpu_codewords": 1000, "numba_threads": 2, "cpu_count": 2,
        "load_average_1min": 1.0, "ours_first_call_s": 14.0, "ours_loaded_from_cache": False,
        "ours_decode_s": 0.5, "ours_cpu_cores_used": 1.9, "ours_info_bits_per_s": 10.24e6,
        "ours_info_bits_per_cpu_s": 5.4e6, "sionna_graph_build_s": 55.0,
        "sionna_graph_decode_s": 6.4, "sionna_graph_info_bits_per_s": 8.0e3,
        "sionna_cpu_decode_s": 9.5, "sionna_cpu_info_bits_per_s": 27.0e3,
        "speedup_vs_graph": 1280.0, "speedup_vs_cpu": 379.3, "agreement_vs_graph": 1.0,
        "agreement_vs_cpu": 0.999, "agreement_graph_vs_cpu": 0.998, "bler_ours": 0.0951,
        "bler_ours_stderr": 0.0021, "bler_ours_on_graph_codewords": 0.1,
        "bler_ours_on_cpu_codewords": 0.093, "bler_sionna_graph": 0.1,
        "bler_sionna_graph_stderr": 0.0212, "bler_sionna_cpu": 0.094,
        "bler_sionna_cpu_stderr": 0.0092,
    }
    table = format_polar_benchmark(result)
    for text in ["N=512, K=256, L=4", "10240.0", "8.0", "27.0", "1280x", "379x", "0.0951",
                 "99.90%", "99.80%", "14.0 s (compilation)", "55.0 s", "5.40 Mbit"]:
        assert text in table
