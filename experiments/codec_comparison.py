"""``deepsc-st bench codecs``: the neural codec at each number of codebooks next to AMR-WB's modes, on the same utterances.

No channel: what each source codec alone does to the speech. Per row: the
source bit rate (bit/s), wide-band PESQ and STOI of the decoded speech
against the sent speech (means over the utterances,
:func:`deepsc_st.audio_quality.mean_quality`), and the ASR's CER / WER on the
decoded speech; the first row is the ASR on the sent speech itself. Every
row goes through :func:`deepsc_st.measure.measure`, the sweep's path (the
codec and speech systems over the noiseless channel). The codec's speed is
timed on the same utterances: encode + decode (Griffin-Lim included) with all
codebooks, as seconds of speech per wall second (:func:`codec_real_time_factor`),
and the project's Griffin-Lim against librosa's on the same decoded magnitudes
(:func:`griffin_lim_against_librosa`). For a codec whose decoder predicts
magnitudes only, :func:`griffin_lim_ceiling` scores Griffin-Lim from the sent
speech's own magnitudes: what a perfect decoder would reach with that phase.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from baselines.codec_transceiver import CodecTransceiver
from baselines.speech_transceiver import SpeechTransceiver
from channels import make_channel
from deepsc_st.audio_quality import mean_quality
from deepsc_st.codec import griffin_lim_framing
from deepsc_st.data import load_utterances
from deepsc_st.griffin_lim import griffin_lim_waveform
from deepsc_st.measure import measure
from deepsc_st.transceiver import DeepSCSTTransceiver

AMR_WB_MODES_KBPS = (6.60, 12.65, 23.85)  # the lowest, a middle and the highest mode
SEED = 0


def run_codec_comparison(codec_system: CodecTransceiver, data, split: str = "test", utterances: int | None = 100, codec_label: str | None = None) -> dict:
    """{"rows": [{"codec", "bits_per_second", "pesq", "stoi", "cer", "wer", "utterances"}], "codec_speed": :func:`codec_real_time_factor`,
    "griffin_lim_ceiling": :func:`griffin_lim_ceiling` (None for a codec that predicts its phase)}:
    rows for the sent speech, the codec with all its codebooks down to 2, then AMR-WB at :data:`AMR_WB_MODES_KBPS`
    (``codec_system``'s ASR recognises them all). ``codec_label``: the codec's name in its rows (default: its configuration's)."""
    loaded = load_utterances(data, split, utterances)
    sent = [item.waveform for item in loaded]
    none = make_channel("none")
    asr = measure(DeepSCSTTransceiver(codec_system.asr_model), loaded, none, 0.0, seed=SEED)
    speed = codec_real_time_factor(codec_system, sent)
    ceiling = None
    if codec_system.codec.config.phase == "griffin-lim":
        speed["griffin_lim"] = griffin_lim_against_librosa(codec_system, sent)
        ceiling = griffin_lim_ceiling(codec_system.codec.config, sent)
    rows = [{"codec": "sent speech", "bits_per_second": None, "pesq": None, "stoi": None, "cer": asr.cer, "wer": asr.wer, "utterances": asr.utterances}]
    codec_label = codec_label or codec_system.codec.config.name
    systems = [(f"{codec_label}, {k} codebooks", CodecTransceiver(codec_system.asr_model, codec_system.codec, k)) for k in range(codec_system.codebooks, 1, -1)]
    systems += [(f"AMR-WB {mode:.2f} kbit/s", SpeechTransceiver(codec_system.asr_model, mode_kbps=mode)) for mode in AMR_WB_MODES_KBPS]
    for label, system in systems:
        measured = measure(system, loaded, none, 0.0, seed=SEED)
        quality = mean_quality(sent, [t.waveform for t in measured.transmissions])
        rate = system.bits_per_second if isinstance(system, CodecTransceiver) else system.codec.mode_kbps * 1000
        rows.append({"codec": label, "bits_per_second": rate, "pesq": quality["pesq"], "stoi": quality["stoi"], "cer": measured.cer, "wer": measured.wer, "utterances": measured.utterances})
    return {"rows": rows, "codec_speed": speed, "griffin_lim_ceiling": ceiling}


def codec_real_time_factor(codec_system: CodecTransceiver, waveforms: list) -> dict:
    """{"speech_s", "encode_s", "decode_s", "real_time_factor"}: the codec system's encode and decode of ``waveforms`` (16 kHz),
    timed after one warm-up utterance (tracing)."""
    codec_system.decode(codec_system.encode(waveforms[:1]), [len(waveforms[0])])
    start = time.perf_counter()
    tokens = codec_system.encode(waveforms)
    encoded = time.perf_counter()
    codec_system.decode(tokens, [len(w) for w in waveforms])
    done = time.perf_counter()
    speech_s = sum(len(w) for w in waveforms) / 16_000
    return {"speech_s": speech_s, "encode_s": encoded - start, "decode_s": done - encoded, "real_time_factor": speech_s / (done - start)}


def griffin_lim_against_librosa(codec_system: CodecTransceiver, waveforms: list) -> dict:
    """{"ours_s", "librosa_s", "max_difference"}: :func:`deepsc_st.griffin_lim.griffin_lim_waveform` and
    ``librosa.griffinlim`` on the codec's decoded magnitudes of ``waveforms`` (all codebooks), their summed
    seconds and the largest |difference| of their waveforms relative to librosa's peak."""
    import librosa

    config = codec_system.codec.config
    decoded = [np.asarray(codec_system.codec.decoder_output(tf.constant(t[np.newaxis], tf.int32)))[0] for t in codec_system.encode(waveforms)]
    cases = [griffin_lim_framing(m, config) for m in decoded]
    start = time.perf_counter()
    ours = [griffin_lim_waveform(m, length, config.n_fft, config.hop, config.griffin_lim_iterations) for m, length in cases]
    middle = time.perf_counter()
    theirs = [
        librosa.griffinlim(m.T, n_iter=config.griffin_lim_iterations, hop_length=config.hop, n_fft=config.n_fft, center=True, length=length, random_state=0)
        for m, length in cases
    ]
    ours_s, librosa_s = middle - start, time.perf_counter() - middle
    difference = max(float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-9)) for a, b in zip(ours, theirs))
    return {"ours_s": ours_s, "librosa_s": librosa_s, "max_difference": difference}


def griffin_lim_ceiling(config, waveforms: list) -> dict:
    """{"pesq", "stoi", "scored"} of Griffin-Lim (``config``'s n_fft, hop and iterations) from the STFT magnitudes of
    ``waveforms`` themselves (``librosa.stft``, centred Hann frames; each waveform zero-padded to a multiple of the hop,
    as the codec pads it): the speech quality of a magnitude-only decoder whose magnitudes were exact."""
    import librosa

    rebuilt = []
    for waveform in waveforms:
        padded = np.pad(waveform, (0, -len(waveform) % config.hop))
        magnitudes = np.abs(librosa.stft(padded, n_fft=config.n_fft, hop_length=config.hop, center=True)).T
        rebuilt.append(griffin_lim_waveform(magnitudes, len(padded), config.n_fft, config.hop, config.griffin_lim_iterations)[: len(waveform)])
    return mean_quality(waveforms, rebuilt)


def format_codec_comparison(result: dict) -> str:
    """A Markdown table of :func:`run_codec_comparison`'s rows and a line on the codec's speed."""
    rows, speed = result["rows"], result["codec_speed"]
    lines = ["| source codec | bit/s | PESQ (wb) | STOI | ASR CER | ASR WER | utterances |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        rate = "-" if row["bits_per_second"] is None else f"{row['bits_per_second']:.0f}"
        pesq = "-" if row["pesq"] is None else f"{row['pesq']:.3f}"
        stoi = "-" if row["stoi"] is None else f"{row['stoi']:.3f}"
        lines.append(f"| {row['codec']} | {rate} | {pesq} | {stoi} | {row['cer']:.4f} | {row['wer']:.4f} | {row['utterances']} |")
    lines.append(
        f"\nCodec encode + decode, all codebooks: {speed['speech_s']:.1f} s of speech in {speed['encode_s']:.2f} + {speed['decode_s']:.2f} s "
        f"= {speed['real_time_factor']:.1f}x real time"
    )
    ceiling = result.get("griffin_lim_ceiling")
    if ceiling is not None:
        lines.append(
            f"Griffin-Lim from the sent speech's own magnitudes (the ceiling of a magnitude-only decoder): PESQ {ceiling['pesq']:.3f}, "
            f"STOI {ceiling['stoi']:.3f}"
        )
    if "griffin_lim" in speed:
        gl = speed["griffin_lim"]
        lines.append(
            f"Griffin-Lim on the same magnitudes: deepsc_st.griffin_lim {gl['ours_s']:.2f} s, librosa.griffinlim {gl['librosa_s']:.2f} s "
            f"({gl['librosa_s'] / gl['ours_s']:.1f}x); largest waveform difference {gl['max_difference']:.1e} of librosa's peak"
        )
    return "\n".join(lines)
