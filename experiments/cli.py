"""The ``deepsc-st`` command line: info, train, evaluate, transmit, demo, corpus, sweep, compare, ship, bench, devset, game-speech, lm.

It sits at the top of the packages (channels <- deepsc_st <- baselines <-
experiments), so it imports downwards only. The system flags of ``transmit``
and ``sweep`` (``--model``, ``--asr-model``, ``--decoder``, ``--link``,
``--huffman-table``, ...) come from the systems' declarations
(:data:`experiments.systems.PROJECT_SYSTEMS`); ``train``'s options from
:class:`deepsc_st.train.TrainingSettings`.

Bad input (unknown names, non-numeric SNRs, unreadable audio, missing
checkpoints) ends with one line on stderr and exit status 2. TensorFlow's
start-up messages are kept off stderr unless ``--verbose`` is given.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from pathlib import Path

VERBOSE_FLAG = "--verbose"
TRAINING_CHANNEL = "rician"  # train's default channel, except for the speech codec (which is trained without one)


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with the C++ side's start-up lines (absl, oneDNN, CUDA probes) kept off stderr.

    They are written to file descriptor 2 before Python can filter them, so
    the descriptor points at /dev/null for the import. Sweep workers are
    spawned from this module too, so they start quietly as well.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    sys.stderr.flush()
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def keep_compiled_code(directory: str | None = None) -> None:
    """Let XLA keep what it compiles on disk (TensorFlow's persistent compilation cache), before TensorFlow starts.

    The adaptive link compiles one LDPC decoder per code (1-4 s each, against
    0.15 s to decode 200 blocks with it); with the cache, the second sweep
    worker and every later run load it instead (about 1 s saved per code;
    about 1 MB per code on disk). Directory: ``directory``, else
    ``$DEEPSC_ST_XLA_CACHE``, else ~/.cache/deepsc-st/xla; an empty
    ``DEEPSC_ST_XLA_CACHE`` or a cache directory already in ``TF_XLA_FLAGS``
    leaves TensorFlow's setting alone. Sweep workers inherit the setting.
    """
    directory = directory if directory is not None else os.environ.get("DEEPSC_ST_XLA_CACHE", str(Path.home() / ".cache" / "deepsc-st" / "xla"))
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if not directory or "tf_xla_persistent_cache_directory" in flags:
        return
    os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={directory}".strip()


def keep_freed_memory() -> None:
    """Let glibc keep freed memory for reuse instead of handing it back to the system, in this process and the sweep
    workers it starts (they inherit the environment; glibc reads it when a process starts).

    Large blocks (over 32 MB: a speech cell's LLRs, symbols and spectrograms)
    are otherwise mapped afresh and unmapped when freed. On VM-hosted machines
    like this project's 2-core ones the host takes such pages back, and
    touching them again costs about 1.5 s per 156 MB (a loop that allocates and
    fills 156 MB every 3 s: 1.5 s each time; with this setting 0.02 s from the
    second time on). Settings: no mmap for large blocks (``M_MMAP_MAX`` 0) and
    no trimming of the heap below 2 GB free (``M_TRIM_THRESHOLD``). Linux with
    glibc only; a ``MALLOC_MMAP_MAX_`` already in the environment leaves it all alone.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_MAX_" in os.environ:
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return
    keep_below = 2**31 - 1  # mallopt takes an int
    mallopt(-4, 0)  # M_MMAP_MAX
    mallopt(-1, keep_below)  # M_TRIM_THRESHOLD
    os.environ.update(MALLOC_MMAP_MAX_="0", MALLOC_TRIM_THRESHOLD_=str(keep_below))


keep_compiled_code()
keep_freed_memory()
if VERBOSE_FLAG not in sys.argv:
    import_tensorflow_quietly()

from baselines.link_policy import DEFAULT_LINK_POLICY  # noqa: E402
from deepsc_st.errors import UserError  # noqa: E402
from deepsc_st.settings import parse_channel, parse_snr_db  # noqa: E402
from deepsc_st.synthesis import DEFAULT_SYNTHESIZER, DEFAULT_USER, SYNTHESIZERS  # noqa: E402
from experiments.systems import PROJECT_SYSTEMS, Registry  # noqa: E402


def _print_json_or_table(values: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(values, indent=2))
        return
    width = max((len(key) for key in values), default=0)
    for key, value in values.items():
        if key != "examples":
            print(f"{key:>{width}}: {value:.4f}" if isinstance(value, float) else f"{key:>{width}}: {value}")
    for example in values.get("examples", []):
        print(f"\n  {example['id']}\n    sent: {example['reference']}\n    got:  {example['hypothesis']}")


def command_info(args) -> None:
    from deepsc_st.config import TextConfig
    from deepsc_st.frontend import FRAMES_PER_SECOND
    from deepsc_st.model import build_model, output_steps
    from deepsc_st.train import parse_config

    config = parse_config(args.config)
    if isinstance(config, TextConfig):
        _print_json_or_table(_text_info(config), args.json)
        return
    deepsc = build_model(config, channel="awgn")
    asr = build_model(config, channel="none")
    info = {
        "config": config.name,
        "trainable_params": deepsc.trainable_parameter_count(),
        "asr_trainable_params": asr.trainable_parameter_count(),
        "symbols_per_16000_samples": int(output_steps(FRAMES_PER_SECOND + 1, config)) * config.symbols_per_step,
        "steps_per_second": FRAMES_PER_SECOND // config.time_stride,
    }
    text_config = _paired_text_config(config.name)
    if text_config is not None:
        text = _text_info(text_config)
        info.update(deepsc_text_config=text["config"], deepsc_text_trainable_params=text["trainable_params"])
        info["sr_deepsc_trainable_params"] = info["asr_trainable_params"] + text["trainable_params"]
    if args.time:
        info.update(_time_steps(deepsc, args.batch, args.seconds))
    _print_json_or_table(info, args.json)


def _paired_text_config(speech_config: str):
    """The DeepSC text configuration SR+DeepSC pairs with a speech configuration: ``text-<name>``, its vocabulary
    size from the shipped sr-deepsc model when the configuration leaves it to the corpus; None when unknown."""
    import dataclasses

    from deepsc_st.checkpoint import read_json
    from deepsc_st.config import TEXT_CONFIGS, config_from_dict
    from baselines.sr_deepsc_transceiver import DEEPSC_TEXT_MODEL
    from deepsc_st.shipped import shipped_model_dir

    config = TEXT_CONFIGS.get(f"text-{speech_config}")
    if config is None or config.vocabulary_size is not None:
        return config
    shipped = shipped_model_dir(DEEPSC_TEXT_MODEL.shipped)
    if shipped is None:
        return None
    stored = config_from_dict(read_json(shipped / "run.json")["config"])
    return dataclasses.replace(config, vocabulary_size=stored.vocabulary_size) if stored.name == config.name else None


def _text_info(config) -> dict:
    """Parameter count of a DeepSC text configuration (vocabulary size None: not countable) and its symbols per token."""
    from deepsc_st.text_model import build_text_model

    info = {"config": config.name, "vocabulary_size": config.vocabulary_size, "symbols_per_token": config.symbols_per_token}
    if config.vocabulary_size is None:
        return {**info, "trainable_params": "set by the training transcripts (see deepsc-st info --config small)"}
    return {**info, "trainable_params": build_text_model(config, "awgn").trainable_parameter_count()}


def _time_steps(model, batch: int, seconds: float) -> dict:
    """Median wall time of a forward pass and a training step on ``batch`` x ``seconds`` of audio."""
    import keras
    import numpy as np
    import tensorflow as tf

    from deepsc_st.frontend import FRAMES_PER_SECOND, NUM_BINS

    frames = int(seconds * FRAMES_PER_SECOND) + 1
    data = {
        "spectrogram": tf.random.normal([batch, frames, NUM_BINS]),
        "frames": tf.fill([batch], frames),
        "labels": tf.ones([batch, int(seconds * 12)], tf.int32),
        "label_length": tf.fill([batch], int(seconds * 12)),
    }
    model.compile(optimizer=keras.optimizers.Adam(1e-4), jit_compile=False)
    forward = tf.function(lambda b: model.forward(b, snr_db=8.0))
    train_step = tf.function(model.train_step)
    timings = {}
    for name, step in (("forward_s", forward), ("train_step_s", train_step)):
        step(data)  # trace
        times = []
        for _ in range(3):
            start = time.perf_counter()
            step(data)
            times.append(time.perf_counter() - start)
        timings[name] = float(np.median(times))
    timings["timed_batch"] = f"{batch} x {seconds:g} s"
    timings["train_audio_seconds_per_second"] = batch * seconds / timings["train_step_s"]
    return timings


def command_train(args) -> None:
    from deepsc_st.settings import from_arguments
    from deepsc_st.train import TrainingSettings, train

    if args.channel is None:
        args.channel = "none" if args.config.startswith("codec-") else TRAINING_CHANNEL
    settings = from_arguments(TrainingSettings, args)
    result = train(settings, args.out, resume=args.resume, progress=not args.quiet, strategy=args.strategy)
    _print_json_or_table({"run": str(args.out), **result}, as_json=False)


def command_evaluate(args) -> None:
    from channels import make_channel
    from deepsc_st.checkpoint import load_run
    from deepsc_st.data import default_split, load_utterances
    from deepsc_st.measure import cer_by_folder, measure
    from deepsc_st.transceiver import ASR_MODEL, DEEPSC_ST_MODEL, LM_OPTION, DeepSCSTTransceiver, Parts
    from deepsc_st.shipped import model_folder

    channel = make_channel(parse_channel(args.channel))
    snr_db = parse_snr_db(args.snr)
    model_dir = model_folder(args.model) if args.model else (ASR_MODEL if channel.name == "none" else DEEPSC_ST_MODEL).default_dir(option="--model")
    model, run = load_run(model_dir)
    options = {LM_OPTION.name: args.lm}
    if run["kind"] == "deepsc-text":  # a text transceiver hears speech through SR+DeepSC's ASR (--lm: its transmitter's)
        transceiver = PROJECT_SYSTEMS.build("sr-deepsc", {"deepsc-text": model_dir}, options)
    else:
        transceiver = DeepSCSTTransceiver(model, decoder=Parts(options=options).ctc_decoder())
    split = args.split or default_split(args.data)
    utterances = load_utterances(args.data, split, args.utterances, progress=not args.json)
    measurement = measure(transceiver, utterances, channel, snr_db, seed=args.seed)
    by_folder = cer_by_folder(measurement, utterances)  # e.g. each source of the human dev set
    _print_json_or_table({"model": str(model_dir), "split": split, **measurement.row(), **({"cer_by_folder": by_folder} if by_folder else {})}, args.json)


def _system_arguments(args, registry: Registry) -> tuple[dict, dict]:
    """(model kind name -> folder or None, option name -> value) from the flags the registry declared."""
    models = {kind.name: getattr(args, kind.setting) for kind in registry.model_kinds}
    options = {option.name: getattr(args, option.name) for option in registry.options}
    return models, options


def command_transmit(args, registry: Registry = PROJECT_SYSTEMS) -> None:
    import sionna.phy

    from channels import make_channel
    from deepsc_st.audio import load_audio, write_audio
    from deepsc_st.synthesis import make_synthesizer, receiver_speech
    from deepsc_st.transceiver import ReceiverSpeech

    channel = make_channel(parse_channel(args.channel))
    snr_db = parse_snr_db(args.snr)
    waveform = load_audio(args.input, trim=args.trim)
    synthesizer = make_synthesizer(args.synthesizer)
    synthesizer.check_user(args.user)
    if args.out_wav is not None and not Path(args.out_wav).parent.is_dir():
        raise UserError(f"--out-wav {args.out_wav}: no such folder {Path(args.out_wav).parent}")
    system = registry.system(args.system)
    if args.out_wav is not None and system.receiver_speech is ReceiverSpeech.NONE:
        speaking = ", ".join(s.name for s in registry.systems if s.receiver_speech is not ReceiverSpeech.NONE)
        raise UserError(f"--out-wav: the {args.system} system's receiver outputs no speech (choose {speaking})")
    models, options = _system_arguments(args, registry)
    transceiver = registry.build(args.system, models, options)
    sionna.phy.config.seed = args.seed
    [sent] = transceiver.transmit([waveform], channel, snr_db)
    if args.out_wav is not None:
        write_audio(args.out_wav, receiver_speech(transceiver, sent, synthesizer, args.user))
    if args.json:
        result = {"text": sent.text, "channel": channel.name, "snr_db": snr_db, "channel_symbols": sent.channel_symbols, "system": args.system}
        if sent.link_bits_per_symbol is not None:
            result["link_bits_per_symbol"] = sent.link_bits_per_symbol
        print(json.dumps(result))
    else:
        print(sent.text)


BENCHMARKS = ("polar", "pipeline", "ctc", "demo", "bler", "link", "sweep", "codecs", "transmit")


def command_bench(args) -> None:
    if args.benchmark not in BENCHMARKS:
        raise UserError(f"unknown benchmark {args.benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    if args.benchmark == "pipeline":
        from deepsc_st.pipeline_bench import run_pipeline_benchmark

        _print_json_or_table(run_pipeline_benchmark(args.data, args.config), args.json)
        return
    if args.benchmark == "demo":
        from experiments.demo_bench import run_demo_benchmark

        _print_json_or_table(run_demo_benchmark(args.input), args.json)
        return
    if args.benchmark == "transmit":
        from experiments.sweep import parse_list
        from experiments.transmit_bench import DEFAULT_SYSTEMS, run_transmit_benchmark

        systems = [PROJECT_SYSTEMS.system(name).name for name in parse_list(args.systems)] if args.systems else DEFAULT_SYSTEMS
        _print_json_or_table(run_transmit_benchmark(args.input, systems), args.json)
        return
    if args.benchmark == "bler":
        from baselines.bler_table import BLER_TABLE_FILE, format_bler_table, measure_bler_table

        table = measure_bler_table(Path(args.out) if args.out else BLER_TABLE_FILE)
        if args.figure:
            from experiments.figures import plot_bler_table

            plot_bler_table(table, Path(args.figure))
        print(json.dumps(table, indent=1) if args.json else format_bler_table(table))
        return
    if args.benchmark == "sweep":
        from experiments.sweep import parse_list
        from experiments.sweep_bench import format_sweep_benchmark, run_sweep_benchmark

        systems = parse_list(args.systems) if args.systems else None
        result = run_sweep_benchmark(args.data, args.utterances, systems, {"link": args.link}, speech_quality=not args.no_speech_quality)
        print(json.dumps(result, indent=2) if args.json else format_sweep_benchmark(result))
        return
    if args.benchmark == "link":
        from baselines.link_bench import format_link_benchmark, run_link_benchmark

        result = run_link_benchmark()
        print(json.dumps(result, indent=2) if args.json else format_link_benchmark(result))
        return
    if args.benchmark == "codecs":
        from baselines.codec_transceiver import CODEC_MODEL
        from deepsc_st.transceiver import ASR_MODEL
        from experiments.codec_comparison import format_codec_comparison, run_codec_comparison

        models = {ASR_MODEL.name: args.asr_model, CODEC_MODEL.name: args.codec_model}
        system = PROJECT_SYSTEMS.build("codec", models)
        codec_label = PROJECT_SYSTEMS.model_dirs(models)[CODEC_MODEL.name].name  # the model folder, e.g. codec-small-long
        result = run_codec_comparison(system, args.data, args.split, args.utterances, codec_label)
        print(json.dumps(result, indent=2) if args.json else format_codec_comparison(result))
        return
    if args.benchmark == "ctc":
        from deepsc_st.ctc_bench import run_ctc_benchmark

        _print_json_or_table(run_ctc_benchmark(), args.json)
        return
    from baselines.polar_bench import format_polar_benchmark, run_polar_benchmark

    result = run_polar_benchmark()
    print(json.dumps(result, indent=2) if args.json else format_polar_benchmark(result))


def command_ship(args, registry: Registry = PROJECT_SYSTEMS) -> None:
    from baselines.codec_transceiver import CodecTransceiver
    from baselines.sr_deepsc_transceiver import SRDeepSCTransceiver
    from baselines.text_transceiver import load_huffman_codec
    from deepsc_st.codec import CODEC_KIND
    from deepsc_st.checkpoint import migrate_run, read_json
    from deepsc_st.model_card import write_model_card
    from deepsc_st.shipped import model_label
    from deepsc_st.transceiver import ASR_MODEL

    run = migrate_run(read_json(Path(args.run_dir) / "run.json"))
    transceiver, measured_with = None, None
    # a DeepSC text run is measured inside SR+DeepSC, behind an ASR; a codec run inside the codec system, the ASR at the receiver
    system = {"deepsc-text": SRDeepSCTransceiver.name, CODEC_KIND: CodecTransceiver.name}.get(run["kind"])
    if system:
        asr_dir = Path(args.asr_model) if args.asr_model else ASR_MODEL.default_dir()
        transceiver = registry.build(system, {ASR_MODEL.name: asr_dir, run["kind"]: args.run_dir})
        measured_with = {ASR_MODEL.name: model_label(asr_dir)}
    card = write_model_card(
        args.run_dir, args.out, args.data, utterances=args.utterances, training_seconds=args.training_seconds, note=args.note, human_data=args.human_data,
        transceiver=transceiver, measured_with=measured_with,
    )
    if run["kind"] == "asr":  # the text system's code table travels with the ASR model
        load_huffman_codec(None, card.parent, {**run, "data": args.data})
    print(card.read_text())


def command_corpus(args) -> None:
    from deepsc_st.corpus import generate_corpus
    from experiments.sweep import parse_list

    summary = generate_corpus(
        args.out, utterances=args.utterances, seed=args.seed, workers=args.workers, progress=not args.json, voice_set=args.voices,
        splits=parse_list(args.splits), texts=parse_list(args.texts), exclude_sentences_of=parse_list(args.exclude_sentences_of),
    )
    _print_json_or_table({"corpus": str(args.out), **summary}, args.json)


def command_devset(args) -> None:
    from deepsc_st.human_devset import build_human_devset

    _print_json_or_table({"devset": str(args.out), **build_human_devset(args.out)}, args.json)


def command_game_speech(args) -> None:
    from deepsc_st.game_speech import build_game_speech

    _print_json_or_table({"corpus": str(args.out), **build_game_speech(args.out, seed=args.seed, progress=not args.json)}, args.json)


def command_lm(args) -> None:
    from deepsc_st.language_model import build_language_model
    from experiments.sweep import parse_list

    facts = build_language_model(
        list(parse_list(args.data)), args.out, order=args.order, hold_out=list(parse_list(args.hold_out)), texts=parse_list(args.texts),
    )
    _print_json_or_table({"lm": str(args.out), **facts}, args.json)


def command_sweep(args, registry: Registry = PROJECT_SYSTEMS) -> None:
    from deepsc_st.settings import from_arguments
    from experiments.sweep import SweepSettings, run_sweep

    models, options = _system_arguments(args, registry)
    given = {kind: folder for kind, folder in models.items() if folder is not None}
    settings = from_arguments(SweepSettings, args, models=given, options=options)
    summary = run_sweep(settings, registry, progress=not args.quiet)
    _print_json_or_table({key: str(value) for key, value in summary.items()}, as_json=False)


def command_compare(args) -> None:
    from experiments.comparison import write_comparison

    print(f"report: {write_comparison([Path(folder) for folder in args.sweeps], Path(args.out))}")


def command_demo(args, registry: Registry = PROJECT_SYSTEMS) -> None:
    from experiments.demo import DemoSession, UploadLimits, serve

    limits = UploadLimits(_positive(args.max_megabytes, "--max-megabytes"), _positive(args.max_seconds, "--max-seconds"))
    models, options = _system_arguments(args, registry)
    registry.model_dirs(models)  # a folder given on the command line that does not exist stops here, not as an unavailable system
    print("loading the systems and tracing their graphs ...", flush=True)
    session = DemoSession(registry, models, options, synthesizer=args.synthesizer, limits=limits, seed=args.seed)
    app, url = serve(session, args.host, args.port)
    for name, reason in session.unavailable.items():
        print(f"{name} is not available: {reason}")
    print(f"DeepSC-ST demo on {url} (Ctrl+C stops it)", flush=True)
    try:
        app.block_thread()
    finally:
        app.close(verbose=False)


def _positive(value: float, option: str) -> float:
    if not value > 0:
        raise UserError(f"{option} {value:g}: must be more than 0")
    return value


def _add_system_arguments(parser: argparse.ArgumentParser, registry: Registry) -> None:
    """The flags every system of ``registry`` declared: one per model kind, one per option."""
    for kind in registry.model_kinds:
        users = ", ".join(s.name for s in registry.systems if kind in s.model_kinds)
        default = f"the shipped {kind.shipped}" if kind.shipped else "none"
        parser.add_argument(kind.option, dest=kind.setting, default=None, help=f"{kind.label}, or a shipped model's name, for {users} (default: {default})")
    for option in registry.options:
        parser.add_argument(option.flag, dest=option.name, default=option.default, help=option.help)


def build_parser(registry: Registry = PROJECT_SYSTEMS) -> argparse.ArgumentParser:
    """The ``deepsc-st`` parser; ``transmit`` and ``sweep`` take the flags ``registry``'s systems declare."""
    from baselines.codec_transceiver import CODEC_MODEL
    from deepsc_st.distribute import STRATEGIES
    from deepsc_st.settings import add_arguments
    from deepsc_st.transceiver import ASR_MODEL
    from deepsc_st.train import TrainingSettings
    from experiments.sweep import SweepSettings

    parser = argparse.ArgumentParser(prog="deepsc-st", description="DeepSC-ST semantic communication simulator for speech")
    parser.add_argument(VERBOSE_FLAG, action="store_true", help="let TensorFlow's start-up messages through")
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="parameter and symbol counts of a configuration")
    info.add_argument("--config", default="paper", help="paper, medium, small or tiny (with the SR+DeepSC text model they pair with), or a text-* configuration")
    info.add_argument("--json", action="store_true")
    info.add_argument("--time", action="store_true", help="also time a forward pass and a training step")
    info.add_argument("--batch", type=int, default=8, help="utterances per timed batch")
    info.add_argument("--seconds", type=float, default=3.0, help="length of each timed utterance")
    info.set_defaults(run=command_info)

    train = commands.add_parser("train", help="train a model: the ASR (--channel none), DeepSC-ST or the DeepSC text transceiver under a channel (default rician), or the speech codec (no channel)")
    add_arguments(train, TrainingSettings, defaults={"config": "small", "channel": None})  # None: TRAINING_CHANNEL, or none for a codec
    train.add_argument("--out", required=True, help="run folder (checkpoints, logs)")
    train.add_argument("--resume", action="store_true", help="continue the run in --out (rerunning does this too)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.add_argument("--strategy", default=STRATEGIES[0], help="tf.distribute: none; mirrored (every local device); multi-worker (the machines in TF_CONFIG, run on each); --batch-size is the global batch")
    train.set_defaults(run=command_train)

    evaluate = commands.add_parser("evaluate", help="CER/WER of a trained model over a channel at one SNR")
    evaluate.add_argument("--model", default=None, help="run folder or a shipped model's name, e.g. asr-small-games (default: the shipped ASR model for --channel none, else the shipped DeepSC-ST); a DeepSC text run is measured as SR+DeepSC behind the shipped ASR")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--split", default=None, help="default: test of a corpus, all of a folder of wav + txt recordings (e.g. data/human)")
    evaluate.add_argument("--channel", default="awgn")
    evaluate.add_argument("--snr", default="0", help="Es/N0 in dB")
    evaluate.add_argument("--utterances", type=int, default=None, help="evaluate only the first N")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the noise and fading draws")
    evaluate.add_argument("--lm", default=None, help="a word language model folder (deepsc-st lm): CTC beam search with it instead of greedy decoding")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=command_evaluate)

    transmit = commands.add_parser("transmit", help="send one recording through a system and print the recovered text")
    transmit.add_argument("input", help="speech file: wav, flac, ogg, mp3 (any rate, depth or channel count)")
    transmit.add_argument("--system", default="deepsc-st", help=", ".join(registry.names))
    _add_system_arguments(transmit, registry)
    transmit.add_argument("--trim", action="store_true", help="cut leading and trailing silence first")
    transmit.add_argument("--channel", default="awgn")
    transmit.add_argument("--snr", default="10", help="Es/N0 in dB")
    transmit.add_argument("--seed", type=int, default=0)
    transmit.add_argument("--user", default=DEFAULT_USER, help="registered user ID whose voice speaks the received text (--out-wav)")
    transmit.add_argument("--synthesizer", default=DEFAULT_SYNTHESIZER, help=f"the receiver's voice: {' or '.join(SYNTHESIZERS)} (registered: the user's own voice)")
    transmit.add_argument("--out-wav", default=None, help="write the receiver's speech here (16 kHz wav): synthesised for deepsc-st and text, decoded for speech")
    transmit.add_argument("--json", action="store_true")
    transmit.set_defaults(run=lambda args: command_transmit(args, registry))

    bench = commands.add_parser("bench", help="speed benchmarks: polar (our fast SCL decoder against Sionna's), pipeline (tf.data against training), ctc (our CTC loss against tf.nn.ctc_loss with dense labels), demo (the web demo's response times and a 20-request load test), bler (BLER vs SNR of every 5G NR MCS on each channel: the adaptive link's table), link (the digital links' Mbit/s, stage by stage), sweep (one cell of each system as a real-time factor), transmit (one `transmit` of a 5 s clip as fresh processes, beyond importing TensorFlow), codecs (the neural codec at 2 to all codebooks against AMR-WB 6.60 / 12.65 / 23.85 kbit/s: PESQ, STOI, ASR CER)")
    bench.add_argument("benchmark", help=", ".join(BENCHMARKS))
    bench.add_argument("--data", default="data/synth", help="corpus for the pipeline benchmark")
    bench.add_argument("--config", default="small", help="configuration whose training step the pipeline must feed")
    bench.add_argument("--input", default=None, help="speech clip for the demo and transmit benchmarks (default: a 5 s sentence in a registered voice)")
    bench.add_argument("--out", default=None, help="bler: the table file to measure or resume (default: the shipped baselines/nr_bler_table.json)")
    bench.add_argument("--figure", default=None, help="bler: also draw BLER vs SNR to FIGURE.png and FIGURE.pdf")
    bench.add_argument("--utterances", type=int, default=40, help="sweep: test utterances per cell; codecs: utterances of --split")
    bench.add_argument("--split", default="test", help="codecs: the corpus split measured")
    bench.add_argument("--codec-model", default=None, help=f"codecs: the codec run (default: the shipped {CODEC_MODEL.shipped})")
    bench.add_argument("--asr-model", default=None, help=f"codecs: the ASR run at the receiver (default: the shipped {ASR_MODEL.shipped})")
    bench.add_argument("--systems", default=None, help="sweep: comma list (default: every system); transmit: the systems sent through (default: deepsc-st)")
    bench.add_argument("--link", default=DEFAULT_LINK_POLICY, help="sweep: the conventional systems' link policy")
    bench.add_argument("--no-speech-quality", action="store_true", help="sweep: cells without FDSD / KDSD")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(run=command_bench)

    compare = commands.add_parser("compare", help="the fair comparison: sweeps that differ in --link, drawn and tabled together")
    compare.add_argument("--sweeps", nargs="+", required=True, help="sweep folders, e.g. results/default results/default-adaptive results/default-budget")
    compare.add_argument("--out", default="results/fair", help="folder for the figures, tables and report.md")
    compare.set_defaults(run=command_compare)

    from experiments.demo import DEFAULT_HOST, DEFAULT_PORT, UploadLimits

    demo = commands.add_parser("demo", help="the paper's demonstration as a local web page (speech in; system, channel, SNR; text and speech out)")
    demo.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: this machine only)")
    demo.add_argument("--port", type=int, default=DEFAULT_PORT)
    demo.add_argument("--max-megabytes", type=float, default=UploadLimits.max_megabytes, help="largest upload in MB")
    demo.add_argument("--max-seconds", type=float, default=UploadLimits.max_seconds, help="longest speech in seconds")
    _add_system_arguments(demo, registry)
    demo.add_argument("--synthesizer", default=DEFAULT_SYNTHESIZER, help=f"the receiver's voice: {' or '.join(SYNTHESIZERS)}")
    demo.add_argument("--seed", type=int, default=0, help="seed of every request's noise and fading draws")
    demo.set_defaults(run=lambda args: command_demo(args, registry))

    ship = commands.add_parser("ship", help="copy a trained run into a model folder, measure it and write MODEL.md")
    ship.add_argument("--run", dest="run_dir", required=True, help="trained run folder")
    ship.add_argument("--out", required=True, help="model folder, e.g. models/asr-small")
    ship.add_argument("--data", default="data/synth", help="corpus whose test splits are measured")
    ship.add_argument("--utterances", type=int, default=None, help="measure only the first N of each split")
    ship.add_argument("--note", default=None, help="free text for the card's Notes section")
    ship.add_argument("--human-data", default=None, help="the human-speech dev set (deepsc-st devset) to measure too")
    ship.add_argument("--asr-model", default=None, help=f"a DeepSC text run is measured inside SR+DeepSC behind this ASR run, a codec run inside the codec system with it at the receiver (default: the shipped {ASR_MODEL.shipped})")
    ship.add_argument("--training-seconds", type=float, default=None, help="training wall time, for runs whose history.csv has no epoch_s column")
    ship.set_defaults(run=command_ship)

    from deepsc_st.corpus import CORPUS_SPLITS, DEFAULT_TEXTS, DEFAULT_UTTERANCES, DEFAULT_VOICE_SET, TEXTS, VOICE_SETS

    corpus = commands.add_parser("corpus", help="generate the embedded synthetic speech corpus")
    corpus.add_argument("--out", default="data/synth", help="corpus folder (LJSpeech layout)")
    corpus.add_argument("--utterances", type=int, default=DEFAULT_UTTERANCES)
    corpus.add_argument("--seed", type=int, default=0)
    corpus.add_argument("--workers", type=int, default=None, help="synthesisers at a time")
    corpus.add_argument("--voices", default=DEFAULT_VOICE_SET, help=f"who speaks it: {' or '.join(VOICE_SETS)} (mixed: espeak-ng, flite, festival and Piper voices; kokoro: Kokoro-82M's 28 English neural voices)")
    corpus.add_argument("--splits", default=",".join(CORPUS_SPLITS), help="comma list of the splits to synthesise (make reproduce: test,validation); rerun with others to add them (the splits already made stay)")
    corpus.add_argument(
        "--texts", default=",".join(DEFAULT_TEXTS),
        help=f"comma list of text sources read, from {', '.join(TEXTS)} (fortunes: Debian fortune cookies; wordnet: WordNet's example sentences, "
        "kept out of training as an unseen domain)",
    )
    corpus.add_argument(
        "--exclude-sentences-of", default="", metavar="CORPORA",
        help="comma list of corpus folders none of whose sentences (any split) this corpus speaks: new text only, e.g. more training speech",
    )
    corpus.add_argument("--json", action="store_true")
    corpus.set_defaults(run=command_corpus)

    devset = commands.add_parser("devset", help="rebuild the human-speech dev set from recordings that Debian packages ship (make devset)")
    devset.add_argument("--out", default="data/human", help="folder of SOURCE/ID.wav + .txt")
    devset.add_argument("--json", action="store_true")
    devset.set_defaults(run=command_devset)

    game_speech = commands.add_parser(
        "game-speech", help="write a training corpus of real human speech: the voiced lines of three adventure games Debian ships (make game-speech)",
    )
    game_speech.add_argument("--out", default="data/games", help="corpus folder (LJSpeech layout)")
    game_speech.add_argument("--seed", type=int, default=0, help="draws the validation and test splits")
    game_speech.add_argument("--json", action="store_true")
    game_speech.set_defaults(run=command_game_speech)

    lm = commands.add_parser("lm", help="count a word n-gram language model (KenLM) from corpora's train-split transcripts, for --lm")
    lm.add_argument("--data", required=True, help="corpus folder(s), comma-separated; only their train split is read")
    lm.add_argument("--out", required=True, help="folder for the model (refused if it already holds one)")
    lm.add_argument("--order", type=int, default=4, help="n-gram order")
    lm.add_argument("--hold-out", default="", help="corpus folder(s), comma-separated, whose validation and test sentences the model must not contain (those of --data never are)")
    lm.add_argument("--texts", default="", help="text sources, comma-separated (e.g. austen,fortunes), whose other usable sentences the model counts too")
    lm.add_argument("--json", action="store_true")
    lm.set_defaults(run=command_lm)

    sweep = commands.add_parser("sweep", help="CER/WER of every system x channel x SNR, figures, tables and report (resumable)")
    add_arguments(sweep, SweepSettings)
    _add_system_arguments(sweep, registry)
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(run=lambda args: command_sweep(args, registry))
    return parser


def main(argv: list[str] | None = None, registry: Registry = PROJECT_SYSTEMS) -> int:
    argv = sys.argv[1:] if argv is None else argv
    verbose = VERBOSE_FLAG in argv  # accepted anywhere on the line
    args = build_parser(registry).parse_args([VERBOSE_FLAG] * verbose + [a for a in argv if a != VERBOSE_FLAG])
    try:
        args.run(args)
    except UserError as error:
        print(f"deepsc-st: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepsc-st: interrupted; finished epochs and results are kept", file=sys.stderr)
        return 130
    return 0


def run() -> None:
    """The ``deepsc-st`` console command: :func:`main`, with Python's cyclic garbage collector kept off long-lived objects.

    What the imports made (about 430,000 objects with TensorFlow: a full
    collection walks them in 0.17 s) lives as long as the process, and at
    exit the interpreter's last collections walk everything the command made
    as well. Both go to the collector's permanent generation (``gc.freeze``):
    a ``transmit`` of a 5 s clip takes 0.7-1.1 s less, with the same
    output (``deepsc-st bench transmit``; README, Development).
    Tests call :func:`main`, which leaves the collector alone.
    """
    gc.freeze()
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
