"""The paper's demonstration (section V-E) as a local web page: speech in; system, channel, SNR; text and speech out.

``deepsc-st demo`` (``make demo``) serves it on http://127.0.0.1:7860 with
Gradio. A :class:`DemoSession` holds what every request needs, loaded once at
start: each registered system's transceiver (one shared ASR), the receiver's
synthesiser, and compiled graphs traced by a warm-up transmission per system
and channel. A request goes through the same ``transmit`` as ``deepsc-st
transmit`` and the sweep; :func:`build_app` only lays the page out, and
:func:`serve` starts it with one request at a time (others wait in Gradio's
queue).

>>> session = DemoSession()  # doctest: +SKIP
>>> session.transmit("speech.wav", "deepsc-st", "awgn", 10, "spk00").text  # doctest: +SKIP
'the cat sat on the mat'
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from channels import make_channel
from deepsc_st.audio import load_audio
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.metrics import character_error_rate, word_error_rate
from deepsc_st.settings import parse_channel, parse_snr_db
from deepsc_st.synthesis import DEFAULT_SYNTHESIZER, DEFAULT_USER, make_synthesizer, receiver_speech
from deepsc_st.tokens import TOKENS, normalize_text
from deepsc_st.transceiver import DeepSCSTTransceiver, ReceiverSpeech, Transceiver, Transmission
from experiments.systems import PROJECT_SYSTEMS, Registry

DEMO_CHANNELS = ("awgn", "rayleigh", "rician")  # the paper's three
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
SNR_RANGE_DB = (-12.0, 30.0)  # the slider's ends (Es/N0)
DEFAULT_SNR_DB = 10.0
WARM_UP_SNR_DB = 10.0
UPLOAD_CACHE_SECONDS = 3600  # uploads and answers are deleted from Gradio's cache after an hour


@dataclass(frozen=True)
class UploadLimits:
    """The largest input a request takes: file size in MB (10^6 bytes) and speech length in seconds.

    In the page, Gradio refuses a bigger upload before it is sent (the page
    re-encodes a recording or upload as 16-bit PCM wav first); :meth:`DemoSession.load`
    checks both limits again for any other caller.
    """

    max_megabytes: float = 20.0
    max_seconds: float = 30.0


@dataclass
class DemoResult:
    """One system's answer to one request.

    ``speech``: the receiver's float32 [num_samples] at 16 kHz, None for a
    text-only receiver. ``cer``/``wer``: against the typed reference, None
    without one. ``figure``: a matplotlib figure (spectrograms, or DeepSC-ST's
    token posteriors). ``seconds``: wall time of the transmission.
    """

    system: str
    text: str
    channel_symbols: int
    cer: float | None
    wer: float | None
    speech: np.ndarray | None
    figure: object
    seconds: float


class DemoSession:
    """Every system of ``registry`` built once (``model_dirs``/``options`` as for ``Registry.build``), ready for requests.

    A system that cannot build (say, no AMR-WB library) is left out and its
    reason kept in ``unavailable``; none building is a :class:`UserError`.
    ``seed`` seeds every request's noise and fading, so the same input gives
    the same answer.
    """

    def __init__(self, registry: Registry = PROJECT_SYSTEMS, model_dirs: dict | None = None, options: dict | None = None,
                 synthesizer: str = DEFAULT_SYNTHESIZER, limits: UploadLimits = UploadLimits(), seed: int = 0, warm_up: bool = True):
        built = registry.build_each(model_dirs, options)
        self.transceivers = {name: t for name, t in built.items() if isinstance(t, Transceiver)}
        self.unavailable = {name: str(error) for name, error in built.items() if isinstance(error, UserError)}
        if not self.transceivers:
            raise UserError("no system could be built: " + "; ".join(f"{name}: {reason}" for name, reason in self.unavailable.items()))
        self.synthesizer = make_synthesizer(synthesizer)
        self.limits = limits
        self.seed = seed
        self._lock = threading.Lock()  # TensorFlow graphs and Sionna's seed: one transmission at a time
        if warm_up:
            self.warm_up()

    @property
    def systems(self) -> tuple[str, ...]:
        return tuple(self.transceivers)

    def warm_up(self) -> None:
        """One 1 s transmission per system and channel, so every graph is traced before the first request."""
        times = np.arange(SAMPLE_RATE) / SAMPLE_RATE
        chirp = (0.3 * np.sin(2 * np.pi * (200 + 800 * times) * times)).astype(np.float32)
        for transceiver in self.transceivers.values():
            for channel in DEMO_CHANNELS:
                self._send(transceiver, chirp, channel, WARM_UP_SNR_DB)
            if isinstance(transceiver, DeepSCSTTransceiver):
                self._sent_logits(transceiver, chirp)

    def load(self, path) -> np.ndarray:
        """The speech in ``path`` (float32, 16 kHz), or a one-line :class:`UserError`: no file, too big, too long, not speech."""
        if path is None or not str(path).strip():
            raise UserError("choose a speech file or record one first")
        megabytes = Path(path).stat().st_size / 1e6 if Path(path).is_file() else 0.0
        if megabytes > self.limits.max_megabytes:
            raise UserError(f"the file is {megabytes:.1f} MB; this demo takes at most {self.limits.max_megabytes:g} MB")
        try:
            waveform = load_audio(path)
        except UserError as error:  # name the file as the user knows it, not by the server's upload folder
            raise UserError(str(error).replace(str(path), Path(path).name)) from None
        seconds = len(waveform) / SAMPLE_RATE
        if seconds > self.limits.max_seconds:
            raise UserError(f"the speech is {seconds:.1f} s long; this demo takes at most {self.limits.max_seconds:g} s")
        return waveform

    def transmit(self, path, system: str, channel: str, snr_db, user: str = DEFAULT_USER, reference: str = "") -> DemoResult:
        """Send the speech in ``path`` through ``system`` over ``channel`` at ``snr_db`` (Es/N0, dB); ``user`` speaks at the receiver."""
        if system not in self.transceivers:
            reason = self.unavailable.get(system)
            raise UserError(f"system {system!r} is not available: {reason}" if reason else f"unknown system {system!r}; choose one of {', '.join(self.systems)}")
        return self.transmit_each(path, channel, snr_db, user, reference, systems=(system,))[0]

    def transmit_each(self, path, channel: str, snr_db, user: str = DEFAULT_USER, reference: str = "", systems: tuple[str, ...] | None = None) -> list[DemoResult]:
        """:meth:`transmit` through each of ``systems`` (default: all), the input loaded and checked once."""
        channel = parse_channel(str(channel))
        if channel not in DEMO_CHANNELS:
            raise UserError(f"unknown channel {channel!r}; choose one of {', '.join(DEMO_CHANNELS)}")
        snr_db = parse_snr_db(str(snr_db))
        self.synthesizer.check_user(user)
        reference = normalize_text(reference or "").text
        waveform = self.load(path)
        results = []
        for name in systems or self.systems:
            transceiver = self.transceivers[name]
            start = time.perf_counter()
            sent, speech = self._send(transceiver, waveform, channel, snr_db, user)
            seconds = time.perf_counter() - start
            cer = character_error_rate([reference], [sent.text]) if reference else None
            wer = word_error_rate([reference], [sent.text]) if reference else None
            results.append(DemoResult(name, sent.text, sent.channel_symbols, cer, wer, speech, self._figure(transceiver, waveform, sent, speech), seconds))
        return results

    def _send(self, transceiver: Transceiver, waveform: np.ndarray, channel: str, snr_db: float, user: str = DEFAULT_USER) -> tuple[Transmission, np.ndarray | None]:
        import sionna.phy

        with self._lock:
            sionna.phy.config.seed = self.seed
            [sent] = transceiver.transmit([waveform], make_channel(channel), snr_db)
            return sent, receiver_speech(transceiver, sent, self.synthesizer, user)

    def _figure(self, transceiver: Transceiver, waveform: np.ndarray, sent: Transmission, speech: np.ndarray | None):
        """DeepSC-ST: its token posteriors before and after the channel; other systems: sent and received spectrograms."""
        if isinstance(transceiver, DeepSCSTTransceiver) and sent.token_scores is not None:
            return posteriors_figure(self._sent_logits(transceiver, waveform), sent.token_scores)
        return spectrograms_figure(waveform, speech)

    def _sent_logits(self, transceiver: DeepSCSTTransceiver, waveform: np.ndarray) -> np.ndarray:
        from deepsc_st.inference import semantic_logits

        with self._lock:
            return semantic_logits(transceiver.model, [waveform])[0]


def posteriors_figure(sent_logits: np.ndarray, received_logits: np.ndarray):
    """Two panels of token posteriors [29 tokens x steps at 25 steps/s]: the semantic features sent, and the channel decoder's output."""
    from matplotlib.figure import Figure
    from scipy.special import softmax

    labels = ["␣" if t == " " else t for t in TOKENS] + ["blank"]
    figure = Figure(figsize=(9, 5.5), layout="constrained")
    for axes, logits, title in zip(figure.subplots(2, 1, sharex=True), (sent_logits, received_logits), ("sent: semantic features", "received: channel decoder output")):
        image = axes.imshow(softmax(logits, axis=-1).T, aspect="auto", origin="lower", cmap="magma", vmin=0, vmax=1, interpolation="nearest")
        axes.set_yticks(range(len(labels)), labels, fontsize=6)
        axes.set_title(f"token posteriors, {title}", fontsize=10)
    axes.set_xlabel("step (40 ms)")
    figure.colorbar(image, ax=figure.axes, shrink=0.8, label="probability")
    return figure


def spectrograms_figure(sent: np.ndarray, received: np.ndarray | None):
    """Log-magnitude spectrograms (dB, 16 kHz, 10 ms hop) of the sent speech and, if the receiver speaks, of its speech."""
    import librosa
    from matplotlib.figure import Figure

    waves = [(sent, "sent speech")] + ([(received, "receiver's speech")] if received is not None else [])
    figure = Figure(figsize=(9, 2.6 * len(waves) + 0.4), layout="constrained")
    for axes, (wave, title) in zip(np.atleast_1d(figure.subplots(len(waves), 1)), waves):
        magnitude = np.abs(librosa.stft(np.asarray(wave, np.float32), n_fft=512, hop_length=160))
        decibels = librosa.amplitude_to_db(magnitude, ref=np.max, top_db=80)
        seconds = len(wave) / SAMPLE_RATE
        axes.imshow(decibels, aspect="auto", origin="lower", cmap="magma", extent=(0, seconds, 0, SAMPLE_RATE / 2000))
        axes.set_ylabel("kHz")
        axes.set_title(title, fontsize=10)
    axes.set_xlabel("time (s)")
    return figure


def _quiet_gradio() -> None:
    """No telemetry or hub lookups: the demo is local and this machine may have no internet."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def _speech_output(speech: np.ndarray | None):
    return None if speech is None else (SAMPLE_RATE, np.clip(np.asarray(speech) * 32767, -32768, 32767).astype(np.int16))


def build_app(session: DemoSession):
    """The page: input and settings on the left, one system's answer on the right, every system's answers below."""
    _quiet_gradio()
    import gradio as gr

    speaking = [name for name, t in session.transceivers.items() if t.receiver_speech is not ReceiverSpeech.NONE]
    with gr.Blocks(title="DeepSC-ST demo", delete_cache=(UPLOAD_CACHE_SECONDS, UPLOAD_CACHE_SECONDS)) as app:
        gr.Markdown(
            "# DeepSC-ST: semantic communication of speech\n"
            "Choose or record speech, a system, a channel and an SNR (Es/N0 per complex symbol). "
            f"The receiver's voice is a registered user. Input: at most {session.limits.max_megabytes:g} MB and {session.limits.max_seconds:g} s."
            + ("".join(f"\n\n*{name} is not available: {reason}*" for name, reason in session.unavailable.items()))
        )
        with gr.Row():
            with gr.Column():
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Speech (wav, flac, ogg, mp3, or record)", elem_id="speech-input")
                system = gr.Dropdown(list(session.systems), value=session.systems[0], label="System", elem_id="system")
                channel = gr.Radio(list(DEMO_CHANNELS), value="awgn", label="Channel", elem_id="channel")
                snr = gr.Slider(*SNR_RANGE_DB, value=DEFAULT_SNR_DB, step=0.5, label="SNR (Es/N0, dB)", elem_id="snr")
                user = gr.Dropdown(list(session.synthesizer.users), value=DEFAULT_USER, label="Receiver's voice (registered user)", elem_id="user")
                reference = gr.Textbox(label="Reference text (optional: gives CER and WER)", elem_id="reference")
                with gr.Row():
                    send = gr.Button("Transmit", variant="primary", elem_id="transmit")
                    send_all = gr.Button("All systems", elem_id="transmit-all")
            with gr.Column():
                status = gr.Markdown(elem_id="status")
                text = gr.Textbox(label="Recovered text", interactive=False, elem_id="recovered-text")
                numbers = gr.Textbox(label="CER / WER / channel symbols", interactive=False, elem_id="numbers")
                speech = gr.Audio(label="Receiver's speech", type="numpy", interactive=False, elem_id="receiver-speech")
                picture = gr.Plot(label="Before and after the channel", show_label=False, elem_id="picture")
        table = gr.Dataframe(headers=["system", "recovered text", "CER", "WER", "channel symbols"], label="All systems", interactive=False, elem_id="all-systems")
        with gr.Row():
            players = [gr.Audio(label=f"{name}: receiver's speech", type="numpy", interactive=False) for name in speaking]

        def one(path, system_name, channel_name, snr_db, user_id, reference_text):
            try:
                result = session.transmit(path, system_name, channel_name, snr_db, user_id, reference_text)
            except UserError as error:
                return f"**Error:** {error}", "", "", None, None
            numbers_text = f"CER {_rate(result.cer)} / WER {_rate(result.wer)} / {result.channel_symbols} symbols" if result.cer is not None else f"{result.channel_symbols} channel symbols"
            return f"{result.system}: done in {result.seconds:.2f} s", result.text, numbers_text, _speech_output(result.speech), result.figure

        def each(path, channel_name, snr_db, user_id, reference_text):
            try:
                results = session.transmit_each(path, channel_name, snr_db, user_id, reference_text)
            except UserError as error:
                return [f"**Error:** {error}", None] + [None] * len(players)
            rows = [[r.system, r.text, _rate(r.cer), _rate(r.wer), r.channel_symbols] for r in results]
            voices = {r.system: _speech_output(r.speech) for r in results}
            return [f"all systems: done in {sum(r.seconds for r in results):.2f} s", rows] + [voices.get(name) for name in speaking]

        send.click(one, [audio, system, channel, snr, user, reference], [status, text, numbers, speech, picture], api_name="transmit")
        send_all.click(each, [audio, channel, snr, user, reference], [status, table, *players], api_name="transmit_all")
    return app


def serve(session: DemoSession, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT):
    """Start the page on ``host:port`` in a background thread, one request at a time (the rest queue); returns (app, url).

    ``app.block_thread()`` then serves until interrupted; ``app.close()`` stops it.
    """
    app = build_app(session)
    app.queue(default_concurrency_limit=1)
    max_file_size = f"{session.limits.max_megabytes * 1e6:.0f}b"  # Gradio refuses a bigger upload before it reaches us
    try:
        app.launch(server_name=host, server_port=port, prevent_thread_lock=True, max_file_size=max_file_size, quiet=True, show_error=True)
    except OSError as error:
        reason = str(error).split(". ")[0]  # Gradio's advice names its own parameters, not ours
        raise UserError(f"cannot serve on {host}:{port}: {reason}; choose another --port or --host") from None
    return app, f"http://{host}:{port}/"


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port on ``host`` that nothing listens on now (for tests and benchmarks)."""
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
