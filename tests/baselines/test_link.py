import numpy as np
import pytest
import sionna.phy
import tensorflow as tf
from sionna.phy.channel import AWGN
from sionna.phy.fec.interleaving import Deinterleaver
from sionna.phy.fec.polar import PolarEncoder, PolarSCLDecoder
from sionna.phy.fec.polar.utils import generate_5g_ranking
from sionna.phy.mapping import BinarySource, Demapper, Mapper

from channels import make_channel
from baselines.link import CODE_K, DECODERS, FEATURE_CODE_K, SPEECH_CODE_K, TEXT_CODE_K, DigitalLink


@pytest.fixture(scope="module")
def link():
    return DigitalLink()


def random_bits(rng, num_bits):
    return rng.integers(0, 2, num_bits).astype(np.uint8)


@pytest.mark.parametrize("decoder", [pytest.param(d, marks=pytest.mark.slow) if d == "sionna" else d for d in DECODERS])
@pytest.mark.parametrize("channel", ["awgn", "rayleigh", "rician"])
def test_no_bit_errors_at_30_db(channel, decoder):
    rng = np.random.default_rng(0)
    messages = [random_bits(rng, n) for n in (2000, 333, 1)]
    results = DigitalLink(decoder=decoder).transmit_many(messages, make_channel(channel), 30.0)
    for result, message in zip(results, messages):
        assert result.bits.dtype == np.uint8
        assert np.array_equal(result.bits, message)


@pytest.mark.parametrize("channel", ["rayleigh", "rician"])
def test_interleaving_carries_long_messages_through_deep_fades_at_30_db(link, channel):
    """~2 % of 128-symbol Rayleigh blocks fade below what 64-QAM at rate 5/8 needs at 30 dB;
    without the interleaver some of this message's 72 codewords would sit in them."""
    message = random_bits(np.random.default_rng(4), 72 * CODE_K)
    assert np.array_equal(link.transmit(message, make_channel(channel), 30.0).bits, message)


def test_interleaver_spreads_each_codeword_over_the_message_and_the_bit_levels(link):
    codewords = 12
    coded = np.repeat(np.arange(codewords, dtype=np.int32)[:, None], 512, axis=1).reshape(-1)  # codeword index per bit
    interleaved = link.qam.interleaver(tf.constant(coded)).numpy()
    quarters = interleaved.reshape(4, -1)  # each quarter of the message (16 fading blocks of 128 symbols)
    levels = interleaved.reshape(-1, 6)  # bit level within the 64-QAM symbol
    for codeword in range(codewords):
        assert np.all((quarters == codeword).sum(axis=1) > 64)  # 128 expected per quarter
        assert np.all((levels == codeword).sum(axis=0) > 40)  # 85 expected per level
    assert np.array_equal(Deinterleaver(link.qam.interleaver)(tf.constant(interleaved)).numpy(), coded)
    assert np.array_equal(link.qam.interleaver(tf.constant(coded)).numpy(), interleaved)  # a fixed permutation
    assert np.array_equal(coded[link.qam.permutation(coded.size)], interleaved)  # the link's cached gather is Sionna's permutation


@pytest.mark.parametrize("channel", ["awgn", "rayleigh"])
def test_ber_is_one_half_at_minus_20_db(link, channel):
    message = random_bits(np.random.default_rng(1), 20 * CODE_K)
    ber = np.mean(link.transmit(message, make_channel(channel), -20.0).bits != message)
    assert 0.45 < ber < 0.55


def test_noiseless_channel_is_exact(link):
    message = random_bits(np.random.default_rng(2), 700)
    assert np.array_equal(link.transmit(message, make_channel("none"), 0.0).bits, message)


@pytest.mark.parametrize("num_bits", [1, CODE_K - 1, CODE_K + 1, 1000, 3 * CODE_K])
def test_padding_is_removed_and_symbols_counted(link, num_bits):
    message = random_bits(np.random.default_rng(num_bits), num_bits)
    result = link.transmit(message, make_channel("awgn"), 30.0)
    codewords = -(-num_bits // CODE_K)
    assert result.bits.shape == (num_bits,)
    assert result.codewords == codewords
    assert result.channel_symbols == -(-codewords * 512 // 6) == link.symbols_for_bits(num_bits)


def test_transmit_many_pads_each_message_on_its_own(link):
    rng = np.random.default_rng(3)
    messages = [random_bits(rng, n) for n in (1000, 50, 700)]
    results = link.transmit_many(messages, make_channel("rician"), 30.0)
    assert [(r.codewords, r.channel_symbols) for r in results] == [(4, 342), (1, 86), (3, 256)]
    assert all(np.array_equal(r.bits, m) for r, m in zip(results, messages))


def test_symbol_counts_match_paper_table_ii_within_10_percent():
    speech = DigitalLink(k=SPEECH_CODE_K, decoder="sionna").symbols_for_bits(23_850)  # AMR-WB 23.85 kbit/s, 1 s
    features = DigitalLink(k=FEATURE_CODE_K, decoder="sionna").symbols_for_bits(26 * 29 * 32)
    text = DigitalLink(k=TEXT_CODE_K, decoder="sionna").symbols_for_bits(64)  # ~15 chars, Huffman, byte-padded
    assert (speech, features, text) == (6400, 6486, 86)
    assert abs(speech / 6600 - 1) < 0.1
    assert abs(features / 6264 - 1) < 0.1


def test_same_seed_same_transmission(link):
    message = random_bits(np.random.default_rng(4), 1500)
    outputs = []
    for _ in range(2):
        sionna.phy.config.seed = 7
        outputs.append(link.transmit(message, make_channel("rayleigh"), 8.0).bits)
    assert np.array_equal(*outputs)


def test_rejects_unknown_decoder_and_non_binary_bits(link):
    with pytest.raises(ValueError, match="decoder"):
        DigitalLink(decoder="viterbi")
    with pytest.raises(ValueError, match="0 or 1"):
        link.transmit(np.array([0, 1, 2], np.uint8), make_channel("awgn"), 10.0)


def sionna_only_bler(num_codewords, snr_db):
    """Block error rate of BinarySource -> PolarEncoder -> 64-QAM -> AWGN -> APP demapper -> SCL-4."""
    frozen_pos, _ = generate_5g_ranking(CODE_K, 512)
    no = 10.0 ** (-snr_db / 10.0)
    bits = BinarySource()([num_codewords, CODE_K])
    coded = tf.reshape(PolarEncoder(frozen_pos, 512)(bits), [1, -1])
    y = AWGN()(Mapper("qam", 6)(coded), no)
    llr = tf.reshape(Demapper("app", "qam", 6)(y, no), [-1, 512])
    decoded = PolarSCLDecoder(frozen_pos, 512, list_size=4, cpu_only=True)(llr)
    return float(np.mean(np.any(decoded.numpy() != bits.numpy(), axis=1)))


@pytest.mark.slow
@pytest.mark.parametrize("snr_db", [13.0, 13.5])
def test_bler_agrees_with_a_sionna_only_chain(link, snr_db):
    num_codewords = 240  # a multiple of 3: whole 64-QAM symbols in the reference chain
    message = random_bits(np.random.default_rng(5), num_codewords * CODE_K)
    received = link.transmit(message, make_channel("awgn"), snr_db).bits
    link_bler = float(np.mean(np.any((received != message).reshape(num_codewords, CODE_K), axis=1)))
    reference_bler = sionna_only_bler(num_codewords, snr_db)
    pooled = (link_bler + reference_bler) / 2
    sigma = np.sqrt(2 * pooled * (1 - pooled) / num_codewords)
    assert 0.02 < reference_bler < 0.6, "SNR outside the waterfall: the comparison would say nothing"
    assert abs(link_bler - reference_bler) <= 3 * sigma + 1e-9, (link_bler, reference_bler)
