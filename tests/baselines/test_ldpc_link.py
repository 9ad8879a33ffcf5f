import numpy as np
import pytest
import sionna.phy
import tensorflow as tf
from sionna.phy.channel import AWGN
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper

from baselines.capacity import shannon_limit_db
from baselines.ldpc_link import DECODER_ITERATIONS, MAX_BLOCK_BITS, Block, EarlyStoppingDecoder, LdpcLink, block_sizes_for_bits
from baselines.nr_mcs import mcs_table
from channels import make_channel


def random_bits(rng, num_bits):
    return rng.integers(0, 2, num_bits).astype(np.uint8)


@pytest.mark.parametrize("num_bits, sizes", [(0, [16]), (1, [16]), (300, [512]), (1024, [1024]), (1025, [1024, 1024]), (2100, [1024] * 3), (3100, [1024] * 4)])
def test_block_sizes(num_bits, sizes):
    assert block_sizes_for_bits(num_bits) == sizes
    assert MAX_BLOCK_BITS == 1024


@pytest.mark.parametrize("num_bits, sizes", [(0, [16]), (5, [16]), (300, [300]), (2000, [1000, 1000]), (3100, [775] * 4)])
def test_exact_block_sizes_cut_equal_blocks(num_bits, sizes):
    assert block_sizes_for_bits(num_bits, exact=True) == sizes


CASES = [(channel, 2, 0.08) for channel in ("awgn", "rayleigh", "rician")] + [("rician", 4, 0.5), ("rayleigh", 6, 0.75), ("awgn", 8, 0.92)]


@pytest.mark.parametrize("channel, bits_per_symbol, rate", CASES)
def test_no_bit_errors_at_30_db(channel, bits_per_symbol, rate):
    """Rates below the mother code's 1/5 (repetition) and up to the MCS tables' highest.

    Not 256-QAM at rate 0.92 over fading: 7.4 bits per symbol need |h|^2 > 0.16
    at 30 dB, which 15 % of Rayleigh blocks miss (outage, not a bug)."""
    sionna.phy.config.seed = 1
    rng = np.random.default_rng(0)
    link = LdpcLink(bits_per_symbol)
    messages = [random_bits(rng, n) for n in (1, 333, 5000)]
    plans = [link.plan(m.size, code_rate=rate) for m in messages]
    for result, message, plan in zip(link.transmit_many(messages, plans, make_channel(channel), 30.0), messages, plans):
        assert np.array_equal(result.bits, message)
        assert result.channel_symbols == link.symbols_for_plan(plan) == sum(b.n for b in plan) // bits_per_symbol
        assert result.bits_per_symbol == pytest.approx(sum(b.k for b in plan) / result.channel_symbols)


def test_batches_of_consecutive_messages_stay_under_the_limit():
    from baselines.ldpc_link import _batches

    assert _batches([5, 5, 5, 5], 10) == [(0, 2), (2, 4)]
    assert _batches([3, 20, 3, 3, 3, 3], 10) == [(0, 1), (1, 2), (2, 5), (5, 6)]  # one over the limit goes alone
    assert _batches([4], 1) == [(0, 1)] and _batches([], 10) == []


def test_long_cells_go_through_the_channel_in_bounded_batches(monkeypatch):
    """Under a small batch limit the messages still arrive whole and in order, each batch at most the limit."""
    import baselines.ldpc_link as ldpc_link

    sionna.phy.config.seed = 2
    rng = np.random.default_rng(1)
    link = LdpcLink(4)
    messages = [random_bits(rng, n) for n in (900, 40, 2000, 700, 1500)]
    plans = [link.plan(m.size, code_rate=0.5) for m in messages]
    batch_bits = []
    send = link.qam.send
    monkeypatch.setattr(link.qam, "send", lambda coded, *args: batch_bits.append(sum(c.size for c in coded)) or send(coded, *args))
    monkeypatch.setattr(ldpc_link, "MAX_BATCH_CODED_BITS", 4200)
    results = link.transmit_many(messages, plans, make_channel("awgn"), 30.0)
    assert [r.bits.tolist() for r in results] == [m.tolist() for m in messages]
    assert len(batch_bits) > 1 and sum(batch_bits) == sum(b.n for plan in plans for b in plan)
    assert all(bits <= 4200 for bits in batch_bits)


def test_plan_at_a_code_rate_and_within_a_symbol_budget():
    link = LdpcLink(2)
    assert link.plan(300, code_rate=0.5) == (Block(512, 1024),)
    assert link.plan(300, code_rate=0.1171875) == (Block(512, 4370),)  # MCS 0: n = 2 ceil(512 / (2 R))
    rng = np.random.default_rng(2)
    for _ in range(200):
        bits, symbols = int(rng.integers(1, 20_000)), int(rng.integers(10, 50_000))
        try:
            plan = link.plan(bits, symbols=symbols)
        except ValueError:
            assert bits > 0.9 * symbols  # only a rate above 0.926 at QPSK is refused
            continue
        assert link.symbols_for_plan(plan) <= symbols
    with pytest.raises(ValueError, match="do not fit"):
        link.plan(1000, symbols=500)
    with pytest.raises(ValueError, match="code rate or a number of symbols"):
        link.plan(1000)


def test_repetition_below_the_mother_rate_gains_what_it_spends():
    """Sending the mother codeword twice (rate 1/10) works 3 dB lower than sending it once (rate 1/5)."""
    rng = np.random.default_rng(3)
    link = LdpcLink(2)
    messages = [random_bits(rng, 512) for _ in range(100)]

    def bler(rate, snr_db):
        sionna.phy.config.seed = 4
        plans = [link.plan(512, code_rate=rate)] * len(messages)
        return np.mean([not np.array_equal(r.bits, m) for r, m in zip(link.transmit_many(messages, plans, make_channel("awgn"), snr_db), messages)])

    assert bler(0.2, -5.5) > 0.5
    assert bler(0.1, -5.5) < 0.05
    assert abs(bler(0.1, -8.5) - bler(0.2, -5.5)) < 0.25


def _sionna_chain_bler(k, n, snr_db, num_blocks):
    """LDPC5G + QPSK over AWGN from Sionna's blocks alone."""
    encoder = LDPC5GEncoder(k, n)
    decoder = LDPC5GDecoder(encoder, num_iter=20, hard_out=True)
    mapper, demapper = Mapper("qam", 2), Demapper("app", "qam", 2)
    bits = BinarySource()([num_blocks, k])
    no = tf.constant(10 ** (-snr_db / 10), tf.float32)
    y = AWGN()(mapper(encoder(bits)), no)
    decoded = decoder(demapper(y, no))
    return float(tf.reduce_mean(tf.cast(tf.reduce_any(decoded != bits, axis=1), tf.float32)))


def test_low_mcs_carries_300_bits_within_3_db_of_its_shannon_limit_and_agrees_with_sionna():
    """MCS 0 (QPSK, R 0.117: rate about 0.1) over AWGN; at rate 1/5 our link (interleaver, channel, demapper) and a Sionna-only chain agree."""
    mcs0 = mcs_table(1)[0]
    snr_db = shannon_limit_db(mcs0.spectral_efficiency) + 3.0
    link = LdpcLink(2)
    rng = np.random.default_rng(5)
    messages = [random_bits(rng, 300) for _ in range(200)]
    sionna.phy.config.seed = 6
    plans = [link.plan(300, code_rate=mcs0.code_rate)] * len(messages)
    received = link.transmit_many(messages, plans, make_channel("awgn"), snr_db)
    assert np.mean([not np.array_equal(r.bits, m) for r, m in zip(received, messages)]) <= 0.1

    snr_db = -4.0  # in the waterfall of k = 512 at rate 1/5 with QPSK (BLER about 0.5)
    blocks = [random_bits(rng, 512) for _ in range(400)]
    sionna.phy.config.seed = 7
    ours = np.mean([not np.array_equal(r.bits, m) for r, m in zip(link.transmit_many(blocks, [link.plan(512, code_rate=0.2)] * len(blocks), make_channel("awgn"), snr_db), blocks)])
    sionna.phy.config.seed = 7
    reference = _sionna_chain_bler(512, 2560, snr_db, len(blocks))
    assert 0.05 < reference < 0.95  # a point where a difference would show
    assert abs(ours - reference) < 0.1  # two binomial estimates of 400 blocks: 3 sigma is about 0.1


def test_early_stopping_decodes_the_codewords_of_sionnas_fixed_20_iterations_and_ignores_its_batch():
    """QPSK at rate 1/2, 256-bit blocks, AWGN 1 dB above the Shannon limit: some blocks fail, most stop early."""
    sionna.phy.config.seed = 3
    k, n = 256, 512
    encoder = LDPC5GEncoder(k, n)
    info = BinarySource()([200, k])
    symbols = Mapper("qam", 2)(encoder(info))
    no = tf.constant(10 ** (-1.0 / 10), tf.float32)  # Es/N0 1 dB: the rate-1/2 QPSK Shannon limit is 0 dB
    llr = Demapper("app", "qam", 2)(AWGN()(symbols, no), no)
    fixed = LDPC5GDecoder(encoder, num_iter=DECODER_ITERATIONS, hard_out=True, return_infobits=True)(llr).numpy()
    early = EarlyStoppingDecoder(encoder, num_iter=DECODER_ITERATIONS, hard_out=True, return_infobits=True)
    stopped = early(llr).numpy()
    failed = np.any(fixed != info.numpy(), axis=1)
    assert 0 < failed.sum() < len(failed)  # the case covers decoded and failed blocks
    np.testing.assert_array_equal(stopped, fixed)
    np.testing.assert_array_equal(early(llr[:7]).numpy(), stopped[:7])  # a codeword's output does not depend on its batch
