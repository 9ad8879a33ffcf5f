"""The ``deepsc-st`` command line: info, train, evaluate, transmit, corpus, sweep, bench.

Bad input (unknown names, non-numeric SNRs, unreadable audio, missing
checkpoints) ends with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from deepsc_st.errors import UserError  # noqa: E402
from deepsc_st.synthesis import DEFAULT_USER  # noqa: E402

CHANNEL_CHOICES = ("none", "awgn", "rayleigh", "rician")


def parse_snr(text: str) -> tuple[float, float]:
    """``"8"`` -> (8, 8); ``"0:20"`` -> (0, 20) (a range to draw from). Values in dB."""
    parts = str(text).split(":")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        raise UserError(f"--snr: {text!r} is not a number of dB (use e.g. 8 or 0:20)") from None
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or values[0] > values[1] or not all(abs(v) < 1e3 for v in values):
        raise UserError(f"--snr: {text!r} is not an SNR in dB or a LOW:HIGH range")
    return values[0], values[1]


def check_channel(name: str) -> str:
    if name not in CHANNEL_CHOICES:
        raise UserError(f"unknown channel {name!r}; choose one of {', '.join(CHANNEL_CHOICES)}")
    return name


def _print_json_or_table(values: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(values, indent=2))
        return
    for key, value in values.items():
        if key != "examples":
            print(f"{key:>28}: {value:.4f}" if isinstance(value, float) else f"{key:>28}: {value}")
    for example in values.get("examples", []):
        print(f"\n  {example['id']}\n    sent: {example['reference']}\n    got:  {example['hypothesis']}")


def command_info(args) -> None:
    from deepsc_st.config import get_config
    from deepsc_st.model import build_model, output_steps

    try:
        config = get_config(args.config)
    except ValueError as error:
        raise UserError(str(error)) from None
    deepsc = build_model(config, channel="awgn")
    asr = build_model(config, channel="none")
    info = {
        "config": config.name,
        "trainable_params": deepsc.trainable_parameter_count(),
        "asr_trainable_params": asr.trainable_parameter_count(),
        "symbols_per_16000_samples": int(output_steps(101, config)) * config.symbols_per_step,
        "steps_per_second": 100 // config.time_stride,
    }
    if args.time:
        info.update(_time_steps(deepsc, args.batch, args.seconds))
    _print_json_or_table(info, args.json)


def _time_steps(model, batch: int, seconds: float) -> dict:
    """Median wall time of a forward pass and a training step on ``batch`` x ``seconds`` of audio."""
    import keras
    import numpy as np
    import tensorflow as tf

    frames = int(seconds * 100) + 1
    data = {
        "spectrogram": tf.random.normal([batch, frames, 161]),
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
    from deepsc_st.config import get_config
    from deepsc_st.train import TrainingSettings, train

    check_channel(args.channel)
    snr = parse_snr(args.snr)
    try:
        config = get_config(args.config)
    except ValueError as error:
        raise UserError(str(error)) from None
    settings = TrainingSettings(
        config=config,
        data=str(args.data),
        channel=args.channel,
        snr_db=snr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        lr_schedule=args.lr_schedule,
        spec_augment=args.spec_augment,
        seed=args.seed,
        block_length=args.block_length,
        k_factor=args.k_factor,
        max_utterances=args.max_utterances,
        init_from=args.init_from,
        freeze_encoder=args.freeze_encoder,
    )
    result = train(settings, args.out, resume=args.resume, progress=not args.quiet)
    _print_json_or_table({"run": str(args.out), **result}, as_json=False)


def command_evaluate(args) -> None:
    from channels import make_channel
    from deepsc_st.checkpoint import load_run
    from deepsc_st.data import load_waveforms, read_utterances
    from deepsc_st.evaluate import evaluate
    from experiments.systems import default_model_dir

    channel = make_channel(check_channel(args.channel))
    snr_low, snr_high = parse_snr(args.snr)
    if snr_low != snr_high:
        raise UserError("--snr: evaluate takes one SNR, not a range")
    model_dir = args.model or default_model_dir("asr" if channel.name == "none" else "deepsc-st", option="--model")
    model, run = load_run(model_dir)
    loaded = load_waveforms(read_utterances(args.data, args.split), model.config, progress=not args.json, max_utterances=args.utterances)
    result = evaluate(model, loaded, channel, snr_low, seed=args.seed)
    _print_json_or_table({"model": str(model_dir), "split": args.split, **result}, args.json)


def command_transmit(args) -> None:
    import sionna.phy

    from channels import make_channel
    from deepsc_st.audio import load_audio, write_audio
    from deepsc_st.synthesis import EspeakSynthesizer, receiver_speech
    from experiments.systems import build_transceiver

    channel = make_channel(check_channel(args.channel))
    snr_low, snr_high = parse_snr(args.snr)
    if snr_low != snr_high:
        raise UserError("--snr: transmit takes one SNR, not a range")
    waveform = load_audio(args.input)
    synthesizer = EspeakSynthesizer()
    synthesizer.check_user(args.user)
    if args.out_wav is not None and not Path(args.out_wav).parent.is_dir():
        raise UserError(f"--out-wav {args.out_wav}: no such folder {Path(args.out_wav).parent}")
    transceiver = build_transceiver(
        args.system, asr_run_dir=args.asr_model, deepsc_run_dir=args.model, huffman_table=args.huffman_table, decoder=args.decoder
    )
    if args.out_wav is not None and transceiver.receiver_speech is None:
        raise UserError(f"--out-wav: the {args.system} system's receiver outputs no speech (choose deepsc-st, speech or text)")
    sionna.phy.config.seed = args.seed
    [sent] = transceiver.transmit([waveform], channel, snr_low)
    if args.out_wav is not None:
        write_audio(args.out_wav, receiver_speech(transceiver, sent, synthesizer, args.user))
    if args.json:
        print(json.dumps({"text": sent.text, "channel": channel.name, "snr_db": snr_low, "channel_symbols": sent.channel_symbols, "system": args.system}))
    else:
        print(sent.text)


BENCHMARKS = ("polar", "pipeline", "ctc")


def command_bench(args) -> None:
    if args.benchmark not in BENCHMARKS:
        raise UserError(f"unknown benchmark {args.benchmark!r}; choose one of {', '.join(BENCHMARKS)}")
    if args.benchmark == "pipeline":
        from deepsc_st.pipeline_bench import run_pipeline_benchmark

        _print_json_or_table(run_pipeline_benchmark(args.data, args.config), args.json)
        return
    if args.benchmark == "ctc":
        from deepsc_st.ctc_bench import run_ctc_benchmark

        _print_json_or_table(run_ctc_benchmark(), args.json)
        return
    from baselines.polar_bench import format_polar_benchmark, run_polar_benchmark

    result = run_polar_benchmark()
    print(json.dumps(result, indent=2) if args.json else format_polar_benchmark(result))


def command_ship(args) -> None:
    from deepsc_st.checkpoint import read_json
    from deepsc_st.model_card import write_model_card
    from experiments.systems import load_huffman_codec

    card = write_model_card(args.run_dir, args.out, args.data, utterances=args.utterances, training_seconds=args.training_seconds, note=args.note)
    run = read_json(card.parent / "run.json")
    if run["kind"] == "asr":  # the text system's code table travels with the ASR model
        load_huffman_codec(None, card.parent, {**run, "data": args.data})
    print(card.read_text())


def command_corpus(args) -> None:
    from deepsc_st.corpus import generate_corpus

    summary = generate_corpus(args.out, utterances=args.utterances, seed=args.seed, workers=args.workers, progress=not args.json)
    _print_json_or_table({"corpus": str(args.out), **summary}, args.json)


def command_sweep(args) -> None:
    from experiments.sweep import SweepSettings, parse_list, parse_snrs, run_sweep

    settings = SweepSettings(
        name=args.name,
        data=args.data,
        split=args.split,
        utterances=args.utterances,
        systems=parse_list(args.systems) if args.systems else None,
        channels=parse_list(args.channels),
        snrs=parse_snrs(args.snrs),
        seed=args.seed,
        model=args.model,
        asr_model=args.asr_model,
        example_snr=args.example_snr,
        loss_runs=tuple(args.loss_runs),
        results=args.results,
        workers=args.workers,
        speech_quality=not args.no_speech_quality,
        reference_split=args.reference_split,
    )
    summary = run_sweep(settings, progress=not args.quiet)
    _print_json_or_table({key: str(value) for key, value in summary.items()}, as_json=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deepsc-st", description="DeepSC-ST semantic communication simulator for speech")
    commands = parser.add_subparsers(dest="command", required=True)

    info = commands.add_parser("info", help="parameter and symbol counts of a configuration")
    info.add_argument("--config", default="paper", help="paper, small or tiny")
    info.add_argument("--json", action="store_true")
    info.add_argument("--time", action="store_true", help="also time a forward pass and a training step")
    info.add_argument("--batch", type=int, default=8, help="utterances per timed batch")
    info.add_argument("--seconds", type=float, default=3.0, help="length of each timed utterance")
    info.set_defaults(run=command_info)

    train = commands.add_parser("train", help="train a model with CTC loss under a channel")
    train.add_argument("--config", default="small")
    train.add_argument("--data", required=True, help="corpus folder (embedded, LJSpeech or wav+txt)")
    train.add_argument("--channel", default="rician", help="none (ASR only), awgn, rayleigh or rician")
    train.add_argument("--snr", default="8", help="Es/N0 in dB, or LOW:HIGH to draw one per utterance")
    train.add_argument("--out", required=True, help="run folder (checkpoints, logs)")
    train.add_argument("--epochs", type=int, default=10)
    train.add_argument("--batch-size", type=int, default=16)
    train.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate")
    train.add_argument("--lr-schedule", default="constant", help="constant, or cosine: decay to 5 %% of --lr over --epochs")
    train.add_argument("--spec-augment", action="store_true", help="mask 2 random frequency bands and 2 time spans of each training spectrogram")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--block-length", type=int, default=128, help="complex symbols per fading block")
    train.add_argument("--k-factor", type=float, default=1.0, help="Rician K factor (linear)")
    train.add_argument("--max-utterances", type=int, default=None, help="use only the first N training utterances")
    train.add_argument("--init-from", default=None, help="ASR run folder to initialise the semantic encoder from")
    train.add_argument("--freeze-encoder", action="store_true", help="DeepSC-ST: keep the --init-from semantic encoder fixed, train only the channel codec")
    train.add_argument("--resume", action="store_true", help="continue the run in --out (rerunning does this too)")
    train.add_argument("--quiet", action="store_true", help="no progress bars")
    train.set_defaults(run=command_train)

    evaluate = commands.add_parser("evaluate", help="CER/WER of a trained model over a channel at one SNR")
    evaluate.add_argument("--model", default=None, help="run folder (default: the shipped ASR model for --channel none, else the shipped DeepSC-ST)")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--split", default="test")
    evaluate.add_argument("--channel", default="awgn")
    evaluate.add_argument("--snr", default="0", help="Es/N0 in dB")
    evaluate.add_argument("--utterances", type=int, default=None, help="evaluate only the first N")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the noise and fading draws")
    evaluate.add_argument("--json", action="store_true")
    evaluate.set_defaults(run=command_evaluate)

    transmit = commands.add_parser("transmit", help="send one wav through a system and print the recovered text")
    transmit.add_argument("input", help="speech file (any rate, depth or channel count)")
    transmit.add_argument("--system", default="deepsc-st", help="deepsc-st, speech, text or feature")
    transmit.add_argument("--model", default=None, help="DeepSC-ST run folder (system deepsc-st; default: the shipped model)")
    transmit.add_argument("--asr-model", default=None, help="ASR-only run folder (speech, text, feature; default: the shipped model)")
    transmit.add_argument("--huffman-table", default=None, help="text system: Huffman JSON or corpus folder (default: huffman.json in the ASR run)")
    transmit.add_argument("--decoder", default="fast", help="polar SCL decoder of the baselines: fast or sionna")
    transmit.add_argument("--channel", default="awgn")
    transmit.add_argument("--snr", default="10", help="Es/N0 in dB")
    transmit.add_argument("--seed", type=int, default=0)
    transmit.add_argument("--user", default=DEFAULT_USER, help="registered user ID whose voice speaks the received text (--out-wav)")
    transmit.add_argument("--out-wav", default=None, help="write the receiver's speech here (16 kHz wav): synthesised for deepsc-st and text, decoded for speech")
    transmit.add_argument("--json", action="store_true")
    transmit.set_defaults(run=command_transmit)

    bench = commands.add_parser("bench", help="speed benchmarks: polar (our fast SCL decoder against Sionna's), pipeline (tf.data against training), ctc (our CTC loss against tf.nn.ctc_loss with dense labels)")
    bench.add_argument("benchmark", help="polar, pipeline or ctc")
    bench.add_argument("--data", default="data/synth", help="corpus for the pipeline benchmark")
    bench.add_argument("--config", default="small", help="configuration whose training step the pipeline must feed")
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(run=command_bench)

    ship = commands.add_parser("ship", help="copy a trained run into a model folder, measure it and write MODEL.md")
    ship.add_argument("--run", dest="run_dir", required=True, help="trained run folder")
    ship.add_argument("--out", required=True, help="model folder, e.g. models/asr-small")
    ship.add_argument("--data", default="data/synth", help="corpus whose test splits are measured")
    ship.add_argument("--utterances", type=int, default=None, help="measure only the first N of each split")
    ship.add_argument("--note", default=None, help="free text for the card's Notes section")
    ship.add_argument("--training-seconds", type=float, default=None, help="training wall time, for runs whose history.csv has no epoch_s column")
    ship.set_defaults(run=command_ship)

    from deepsc_st.corpus import DEFAULT_UTTERANCES

    corpus = commands.add_parser("corpus", help="generate the embedded espeak-ng speech corpus")
    corpus.add_argument("--out", default="data/synth", help="corpus folder (LJSpeech layout)")
    corpus.add_argument("--utterances", type=int, default=DEFAULT_UTTERANCES)
    corpus.add_argument("--seed", type=int, default=0)
    corpus.add_argument("--workers", type=int, default=None, help="espeak-ng processes at a time")
    corpus.add_argument("--json", action="store_true")
    corpus.set_defaults(run=command_corpus)

    sweep = commands.add_parser("sweep", help="CER/WER of every system x channel x SNR, figures, tables and report (resumable)")
    sweep.add_argument("--name", default="default", help="results go to RESULTS/NAME; rerunning the same command resumes")
    sweep.add_argument("--data", default="data/synth", help="corpus folder")
    sweep.add_argument("--split", default="test")
    sweep.add_argument("--utterances", type=int, default=None, help="only the first N of the split")
    sweep.add_argument("--systems", default=None, help="comma list (default: every system: deepsc-st,speech,text,feature)")
    sweep.add_argument("--channels", default="awgn,rayleigh,rician", help="comma list")
    sweep.add_argument("--snrs", default="-12:20:2", help="Es/N0 in dB: comma list or LOW:HIGH:STEP (HIGH included)")
    sweep.add_argument("--seed", type=int, default=0, help="fixes every noise and fading draw")
    sweep.add_argument("--model", default=None, help="DeepSC-ST run folder (default: the shipped model)")
    sweep.add_argument("--asr-model", default=None, help="ASR-only run folder (default: the shipped model)")
    sweep.add_argument("--example-snr", type=float, default=0.0, help="SNR (dB) of the example-sentence table")
    sweep.add_argument("--loss-runs", nargs="+", default=[], metavar="RUNDIR", help="training runs for the loss-vs-epoch figure")
    sweep.add_argument("--results", default="results", help="folder that holds the sweeps")
    sweep.add_argument("--workers", type=int, default=None, help="processes (default: min(2, cores))")
    sweep.add_argument("--no-speech-quality", action="store_true", help="skip FDSD / KDSD of the speech receivers output (faster)")
    sweep.add_argument("--reference-split", default="validation", help="real speech that FDSD / KDSD compare with")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(run=command_sweep)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except UserError as error:
        print(f"deepsc-st: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("deepsc-st: interrupted; finished epochs and results are kept", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
