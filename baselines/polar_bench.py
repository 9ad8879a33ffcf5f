"""Benchmark of :class:`baselines.polar_scl.FastPolarSCLDecoder` against Sionna.

One run draws random information bits, encodes them with Sionna's
``PolarEncoder`` (5G frozen set), sends BPSK over AWGN and decodes the same
channel logits with our decoder (all codewords) and with Sionna's
``PolarSCLDecoder`` in graph mode (``tf.function``) and with
``cpu_only=True`` (on the first codewords only: they are slow).  It
reports throughputs in information bits per second, the speed-ups, how often
the decisions agree and the block error rates.  Compilation (numba, or the
TF graph) is timed separately and not counted in throughput.
"""

from __future__ import annotations

import os
import time
import warnings

import numba
import numpy as np
import tensorflow as tf
from sionna.phy.fec.polar import PolarEncoder, PolarSCLDecoder
from sionna.phy.fec.polar.utils import generate_5g_ranking

from baselines import polar_scl
from baselines.polar_scl import FastPolarSCLDecoder


def _bler(decoded: np.ndarray, bits: np.ndarray) -> float:
    return float(np.mean(np.any(decoded != bits, axis=-1)))


def _stderr(rate: float, count: int) -> float:
    return float(np.sqrt(rate * (1.0 - rate) / count))


def bpsk_awgn_logits(n, k, codewords, ebno_db, seed):
    """Frozen positions, random info bits [codewords, k] and their BPSK/AWGN logits log p(1)/p(0) [codewords, n]."""
    rng = np.random.default_rng(seed)
    frozen_pos, _ = generate_5g_ranking(k, n)
    bits = rng.integers(0, 2, size=(codewords, k)).astype(np.float32)
    code = PolarEncoder(frozen_pos, n)(tf.constant(bits)).numpy()
    sigma2 = 1.0 / (2.0 * (k / n) * 10.0 ** (ebno_db / 10.0))
    received = 1.0 - 2.0 * code + np.sqrt(sigma2) * rng.standard_normal(code.shape)
    return frozen_pos, bits, (-2.0 * received / sigma2).astype(np.float32)


def run_polar_benchmark(n: int = 512, k: int = 256, list_size: int = 4, ebno_db: float = 1.5,
                        codewords: int = 20000, graph_codewords: int = 200,
                        cpu_codewords: int = 1000, seed: int = 0) -> dict:
    """Time and compare the decoders on one set of BPSK/AWGN logits.

    ``ebno_db`` is Eb/N0 per information bit; the default gives a block
    error rate of about 0.1 for the default code.  Our decoder decodes all
    ``codewords`` (best of 3 timed passes, after a first call that compiles
    or loads the numba cache).  Sionna's decoder decodes the first
    ``graph_codewords`` in graph mode (after a warm-up call on 8 codewords
    that traces and optimises the graph) and the first ``cpu_codewords``
    with ``cpu_only=True``, once each.  Agreements are fractions of
    codewords with identical decisions, over the codewords both decoders
    decoded.  Returns a flat JSON-serialisable dict of numbers (and the flag
    ``ours_loaded_from_cache``); throughputs are information bits per second.
    """
    graph_codewords = min(graph_codewords, codewords)
    cpu_codewords = min(cpu_codewords, codewords)
    frozen_pos, bits, logits = bpsk_awgn_logits(n, k, codewords, ebno_db, seed)

    ours = FastPolarSCLDecoder(frozen_pos, n, list_size)
    start = time.perf_counter()
    ours(logits[:64])
    first_call_s = time.perf_counter() - start
    from_cache = sum(polar_scl._decode_batch.stats.cache_hits.values()) > 0  # numba's counters
    passes = []
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        decoded = ours(logits)
        passes.append((time.perf_counter() - wall, time.process_time() - cpu))
    ours_s, ours_cpu_s = min(passes)

    with warnings.catch_warnings():  # its advice to use cpu_only: graph mode is measured here
        warnings.simplefilter("ignore", UserWarning)
        graph_decoder = PolarSCLDecoder(frozen_pos, n, list_size=list_size)
    graph = tf.function(lambda llr: graph_decoder(llr),
                        input_signature=[tf.TensorSpec([None, n], tf.float32)])
    start = time.perf_counter()
    graph(tf.constant(logits[:8]))
    graph_build_s = time.perf_counter() - start
    start = time.perf_counter()
    graph_decoded = graph(tf.constant(logits[:graph_codewords])).numpy()
    graph_s = time.perf_counter() - start

    cpu_decoder = PolarSCLDecoder(frozen_pos, n, list_size=list_size, cpu_only=True)
    cpu_decoder(tf.constant(logits[:8]))
    start = time.perf_counter()
    cpu_decoded = cpu_decoder(tf.constant(logits[:cpu_codewords])).numpy()
    cpu_s = time.perf_counter() - start

    def agreement(a, b):
        m = min(len(a), len(b))
        return float(np.mean(np.all(a[:m] == b[:m], axis=-1)))

    ours_rate = codewords * k / ours_s
    graph_rate = graph_codewords * k / graph_s
    cpu_rate = cpu_codewords * k / cpu_s
    bler = _bler(decoded, bits)
    bler_graph = _bler(graph_decoded, bits[:graph_codewords])
    bler_cpu = _bler(cpu_decoded, bits[:cpu_codewords])
    return {
        "n": n, "k": k, "list_size": list_size, "ebno_db": ebno_db, "seed": seed,
        "codewords": codewords, "graph_codewords": graph_codewords,
        "cpu_codewords": cpu_codewords,
        "numba_threads": numba.get_num_threads(), "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "ours_first_call_s": first_call_s,
        "ours_loaded_from_cache": from_cache,
        "ours_decode_s": ours_s,
        "ours_cpu_cores_used": ours_cpu_s / ours_s,
        "ours_info_bits_per_s": ours_rate,
        "ours_info_bits_per_cpu_s": codewords * k / ours_cpu_s,
        "sionna_graph_build_s": graph_build_s,
        "sionna_graph_decode_s": graph_s,
        "sionna_graph_info_bits_per_s": graph_rate,
        "sionna_cpu_decode_s": cpu_s,
        "sionna_cpu_info_bits_per_s": cpu_rate,
        "speedup_vs_graph": ours_rate / graph_rate,
        "speedup_vs_cpu": ours_rate / cpu_rate,
        "agreement_vs_graph": agreement(decoded, graph_decoded),
        "agreement_vs_cpu": agreement(decoded, cpu_decoded),
        "agreement_graph_vs_cpu": agreement(graph_decoded, cpu_decoded),
        "bler_ours": bler,
        "bler_ours_stderr": _stderr(bler, codewords),
        "bler_ours_on_graph_codewords": _bler(decoded[:graph_codewords], bits[:graph_codewords]),
        "bler_ours_on_cpu_codewords": _bler(decoded[:cpu_codewords], bits[:cpu_codewords]),
        "bler_sionna_graph": bler_graph,
        "bler_sionna_graph_stderr": _stderr(bler_graph, graph_codewords),
        "bler_sionna_cpu": bler_cpu,
        "bler_sionna_cpu_stderr": _stderr(bler_cpu, cpu_codewords),
    }


def format_polar_benchmark(result: dict) -> str:
    """Human-readable table of a :func:`run_polar_benchmark` result."""
    r = result
    rows = [  # name, codewords, info bits/s, ours / this, BLER, its s.e., ours on these
        ("ours (numba FastPolarSCLDecoder)", r["codewords"], r["ours_info_bits_per_s"], "",
         r["bler_ours"], r["bler_ours_stderr"], ""),
        ("Sionna PolarSCLDecoder, graph", r["graph_codewords"],
         r["sionna_graph_info_bits_per_s"], f"{r['speedup_vs_graph']:.0f}x",
         r["bler_sionna_graph"], r["bler_sionna_graph_stderr"],
         f"{r['bler_ours_on_graph_codewords']:.4f}  {100 * r['agreement_vs_graph']:.2f}%"),
        ("Sionna PolarSCLDecoder, cpu_only", r["cpu_codewords"],
         r["sionna_cpu_info_bits_per_s"], f"{r['speedup_vs_cpu']:.0f}x",
         r["bler_sionna_cpu"], r["bler_sionna_cpu_stderr"],
         f"{r['bler_ours_on_cpu_codewords']:.4f}  {100 * r['agreement_vs_cpu']:.2f}%"),
    ]
    lines = [
        f"Polar SCL decoding, N={r['n']}, K={r['k']}, L={r['list_size']}, "
        f"BPSK/AWGN at Eb/N0 = {r['ebno_db']} dB (same logits for all decoders)",
        f"{'decoder':<34}{'codewords':>10}{'kbit/s':>11}{'speed-up':>10}"
        f"{'BLER +- s.e.':>20}   ours on the same codewords: BLER, same decisions",
    ]
    for name, count, rate, speedup, bler, err, ours in rows:
        lines.append(f"{name:<34}{count:>10}{rate / 1e3:>11.1f}{speedup:>10}"
                     f"{bler:>10.4f} +- {err:.4f}   {ours}".rstrip())
    lines += [
        f"Sionna graph vs cpu_only: {100 * r['agreement_graph_vs_cpu']:.2f}% same decisions",
        f"ours: {r['numba_threads']} numba threads on {r['cpu_count']} CPUs kept "
        f"{r['ours_cpu_cores_used']:.2f} cores busy (1-min load average "
        f"{r['load_average_1min']:.1f}): {r['ours_info_bits_per_cpu_s'] / 1e6:.2f} Mbit "
        f"per CPU-second",
        f"not counted: numba first call {r['ours_first_call_s']:.1f} s "
        f"({'cache load' if r['ours_loaded_from_cache'] else 'compilation'}), "
        f"Sionna graph trace + optimisation {r['sionna_graph_build_s']:.1f} s",
    ]
    return "\n".join(lines)
