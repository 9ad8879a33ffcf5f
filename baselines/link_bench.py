"""``deepsc-st bench link``: the digital links' end-to-end throughput, stage by stage.

Each link sends the same 40 messages (:data:`MESSAGES` x ``bits_per_message``
random information bits, about a 40-utterance speech cell at 23.85 kbit/s)
over AWGN at an SNR where it decodes without error, twice: the first call
builds and compiles; the second is timed. Printed per link: information
Mbit/s end to end, and the seconds of each stage (:mod:`baselines.interleaved_qam`
keeps them): encode, interleave, map, channel, demap, deinterleave, decode.

Links: the paper's (polar N = 512 rate 5/8, fast SCL list 4, 64-QAM) and
the 5G NR LDPC link at a high and a low MCS (what ``--link adaptive`` uses at
high and low SNR).

The links demap one QAM axis at a time (:func:`baselines.axis_demapper.demap_axes`)
and polar-encode on packed bits (:class:`baselines.polar_encoder.FastPolarEncoder`);
the same run also times the library paths they replace on the paper link's
codewords and symbols (Sionna's QAM demapper, Sionna's ``PolarEncoder``) and
prints each pair side by side.
"""

from __future__ import annotations

import time

import numpy as np
import sionna.phy
import tensorflow as tf
from sionna.phy.fec.polar import PolarEncoder
from sionna.phy.mapping import Demapper

from baselines.axis_demapper import demap_axes
from baselines.ldpc_link import LdpcLink
from baselines.link import CODE_K, DigitalLink
from baselines.nr_mcs import mcs_table
from baselines.polar_encoder import FastPolarEncoder
from channels import make_channel

MESSAGES = 40
STAGES = ("encode", "interleave", "map", "channel", "demap", "deinterleave", "decode")


def _links():
    """(label, send(messages) -> results, the link's stage seconds, SNR in dB) per benchmarked link."""
    paper = DigitalLink()
    yield "paper: polar R 5/8, 64-QAM", lambda m, ch, snr: paper.transmit_many(m, ch, snr), paper.qam.seconds, 20.0
    for mcs, snr in ((mcs_table(1)[20], 20.0), (mcs_table(1)[0], 0.0)):
        link = LdpcLink(mcs.bits_per_symbol)

        def send(messages, channel, snr_db, link=link, mcs=mcs):
            return link.transmit_many(messages, [link.plan(m.size, code_rate=mcs.code_rate) for m in messages], channel, snr_db)

        yield f"LDPC {mcs.label}", send, link.qam.seconds, snr


def time_demappers(symbols: int, bits_per_symbol: int = 6, seed: int = 0) -> dict:
    """Seconds to APP-demap ``symbols`` noisy QAM symbols (at 10 dB): {"sionna_qam": s, "per_axis": s, "max_llr_difference": float}."""
    rng = np.random.default_rng(seed)
    y = tf.constant(((rng.normal(size=symbols) + 1j * rng.normal(size=symbols)) * 0.7).astype(np.complex64))
    no = tf.constant(np.full(symbols, 0.1, np.float32))
    sionna_demapper = tf.function(Demapper("app", "qam", bits_per_symbol))
    demappers = {"sionna_qam": lambda: sionna_demapper(y, no).numpy(), "per_axis": lambda: demap_axes(y.numpy(), no.numpy(), bits_per_symbol)}
    result = {}
    for name, demap in demappers.items():
        demap()  # trace / compile
        start = time.perf_counter()
        result[name + "_llr"] = demap()
        result[name] = time.perf_counter() - start
    result["max_llr_difference"] = float(np.abs(result.pop("sionna_qam_llr") - result.pop("per_axis_llr")).max())
    return result


def time_encoders(codewords: int, seed: int = 0) -> dict:
    """Seconds to polar-encode ``codewords`` random words of the paper link's code: {"sionna": s, "packed": s, "equal": bool}."""
    link = DigitalLink()
    info = np.random.default_rng(seed).integers(0, 2, (codewords, link.k)).astype(np.uint8)
    sionna_encoder, packed_encoder = PolarEncoder(link.frozen_pos, link.n), FastPolarEncoder(link.frozen_pos, link.n)
    encoders = {
        "sionna": lambda: sionna_encoder(tf.constant(info, tf.float32)).numpy().astype(np.uint8),  # as the link called it before
        "packed": lambda: packed_encoder(info),
    }
    result, codes = {}, {}
    for name, encode in encoders.items():
        encode()  # first call: builds
        start = time.perf_counter()
        codes[name] = encode()
        result[name] = time.perf_counter() - start
    result["equal"] = bool(np.array_equal(codes["sionna"], codes["packed"]))
    return result


def run_link_benchmark(bits_per_message: int = 100_000, seed: int = 0) -> dict:
    """{label: {"info_mbit_per_s", "seconds", "bit_errors", "stages": {stage: seconds}}} per link,
    "demappers" (:func:`time_demappers`) and "encoders" (:func:`time_encoders`)."""
    rng = np.random.default_rng(seed)
    messages = [rng.integers(0, 2, bits_per_message).astype(np.uint8) for _ in range(MESSAGES)]
    channel = make_channel("awgn")
    results = {}
    for label, send, seconds, snr_db in _links():
        sionna.phy.config.seed = seed
        send(messages, channel, snr_db)  # build, trace, compile
        seconds.clear()
        start = time.perf_counter()
        received = send(messages, channel, snr_db)
        elapsed = time.perf_counter() - start
        results[label] = {
            "snr_db": snr_db,
            "info_mbit_per_s": MESSAGES * bits_per_message / elapsed / 1e6,
            "seconds": elapsed,
            "bit_errors": int(sum(np.sum(r.bits != m) for r, m in zip(received, messages))),
            "stages": {stage: seconds.get(stage, 0.0) for stage in STAGES},
        }
    results["demappers"] = time_demappers(-(-MESSAGES * bits_per_message * 8 // 5 // 6))  # the paper link's 64-QAM symbols
    results["encoders"] = time_encoders(-(-MESSAGES * bits_per_message // CODE_K))  # the paper link's codewords
    return results


def format_link_benchmark(results: dict) -> str:
    """One row per link: Mbit/s, total seconds and each stage's seconds."""
    header = f"{'link':<34} {'Mbit/s':>7} {'total s':>8} " + " ".join(f"{stage:>12}" for stage in STAGES)
    rows = [header]
    for label, result in results.items():
        if label in ("demappers", "encoders"):
            continue
        stages = " ".join(f"{result['stages'][stage]:12.3f}" for stage in STAGES)
        rows.append(f"{label:<34} {result['info_mbit_per_s']:7.2f} {result['seconds']:8.2f} {stages}")
    if "demappers" in results:
        d = results["demappers"]
        rows.append(f"demapping the paper link's 64-QAM symbols: Sionna's QAM demapper {d['sionna_qam']:.3f} s, per axis {d['per_axis']:.3f} s "
                    f"({d['sionna_qam'] / d['per_axis']:.1f}x; largest LLR difference {d['max_llr_difference']:.1e})")
    if "encoders" in results:
        e = results["encoders"]
        rows.append(f"polar-encoding the paper link's codewords: Sionna's PolarEncoder {e['sionna']:.3f} s, packed {e['packed']:.3f} s "
                    f"({e['sionna'] / e['packed']:.1f}x; codewords {'equal' if e['equal'] else 'DIFFERENT'})")
    return "\n".join(rows)
