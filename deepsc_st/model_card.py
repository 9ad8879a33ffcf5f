"""Ship a trained run: copy its weights and settings, measure it, and write ``MODEL.md``.

Shipping gathers the card's *facts* (the exact training commands of the run
and of the runs it was initialised from, the corpus seed and checksum,
training time and hardware, the commit the model was trained at) and its
measurement rows, CER/WER on the corpus's test splits through
:func:`deepsc_st.measure.measure` (the same path as ``deepsc-st evaluate``
and the sweep); a DeepSC text run (SR+DeepSC) is measured as the text link
alone (transcripts in, BLEU-1 too) and end to end with the ASR in front; a
speech codec run by its decoded speech (wide-band PESQ, STOI, and the ASR's
CER on it) at each number of codebooks, inside the codec system.
Both are stored in ``measurements.json``; ``MODEL.md`` is
:func:`render_card` of that file and the shipped ``history.csv``, so a card
can always be checked against the numbers it shows.
"""

from __future__ import annotations

import csv
import itertools
import os
import platform
import shutil
from pathlib import Path

from channels import make_channel
from deepsc_st import checkpoint
from deepsc_st.audio_quality import mean_quality
from deepsc_st.codec import CODEC_KIND
from deepsc_st.data import corpus_facts, load_utterances
from deepsc_st.errors import UserError
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.measure import Measurement, measure
from deepsc_st.metrics import bleu1
from deepsc_st.settings import snr_range_text
from deepsc_st.shipped import model_folder
from deepsc_st.train import TrainingSettings
from deepsc_st.text_link import sentences_of
from deepsc_st.text_model import TEXT_KIND
from deepsc_st.transceiver import DeepSCSTTransceiver, Transceiver
from deepsc_st.words import VOCABULARY_FILE

HISTORY_FILE = "history.csv"
MEASUREMENTS_FILE = "measurements.json"
CARD_FILE = "MODEL.md"
SHIPPED_FILES = (checkpoint.MODEL_WEIGHTS, checkpoint.RUN_FILE, HISTORY_FILE)
CARD_SNRS = (-4.0, 0.0, 8.0, 20.0)
CARD_CHANNELS = ("awgn", "rayleigh", "rician")
HELDOUT = ("test_heldout", "awgn", 8.0)  # split, channel, SNR of the held-out-speaker row (clean for an ASR model)
CARD_SEED = 0
HUMAN_SPLIT = "human"  # the card's name for the human-speech dev set
TEXT_END_TO_END_SNRS = (8.0, 20.0)  # SR+DeepSC end to end, each channel
UNKNOWN_WORDS = "unknown_words"  # the SR+DeepSC option whose every policy a text card measures end to end


def read_history(run_dir: Path) -> list[dict]:
    with open(Path(run_dir) / HISTORY_FILE, newline="") as handle:
        return list(csv.DictReader(handle))


def measure_run(model, run: dict, data_dir, utterances: int | None = None, human_data=None, transceiver: Transceiver | None = None) -> list[dict]:
    """CER/WER rows: clean speech for an ASR model; each channel at -4, 0, 8, 20 dB for DeepSC-ST (test split),
    plus the held-out-speaker split (clean for ASR, AWGN 8 dB for DeepSC-ST) and, given ``human_data``
    (:mod:`deepsc_st.human_devset`), real human speech (clean for ASR, AWGN 20 dB for DeepSC-ST). Seed :data:`CARD_SEED`.

    A DeepSC text run needs ``transceiver``, the SR+DeepSC system built around it: see :func:`measure_text_run`.
    """
    if run["kind"] in (TEXT_KIND, CODEC_KIND) and transceiver is None:
        raise UserError(f"a {run['kind']} run is measured inside its system, with an ASR; ship it with deepsc-st ship")
    if run["kind"] == TEXT_KIND:
        return measure_text_run(transceiver, run, data_dir, utterances, human_data)
    if run["kind"] == CODEC_KIND:
        return measure_codec_run(transceiver, data_dir, utterances, human_data)
    transceiver = DeepSCSTTransceiver(model)
    splits = _card_splits(data_dir, utterances, human_data)
    if run["kind"] == "asr":
        cells = [(split, "none", 0.0) for split in splits]
    else:
        cells = [("test", channel, snr) for channel in CARD_CHANNELS for snr in CARD_SNRS]
        cells += [HELDOUT] if HELDOUT[0] in splits else []
        cells += [(HUMAN_SPLIT, "awgn", 20.0)] if HUMAN_SPLIT in splits else []
    rows = []
    for split, channel, snr in cells:
        row = measure(transceiver, splits[split], make_channel(channel), snr, seed=CARD_SEED).row()
        rows.append({"split": split, **{key: value for key, value in row.items() if key != "elapsed_s"}})
    return rows


def measure_text_run(transceiver: Transceiver, run: dict, data_dir, utterances: int | None = None, human_data=None) -> list[dict]:
    """SR+DeepSC rows (test split, seed :data:`CARD_SEED`): the text link alone on the reference transcripts
    (``input`` "text") on each channel at -4, 0, 8, 20 dB; the ASR alone on clean speech; the whole system
    (``input`` "speech") on each channel at 8 and 20 dB under each ``--unknown-words`` policy (``unknown_words``);
    given ``human_data``, the whole system on human speech at AWGN 20 dB, each policy too.
    Every row has BLEU-1 and the symbols the reference sentences would cost padded to ``max_tokens`` (the published code pads)."""
    config = run["config"]
    splits = _card_splits(data_dir, utterances, human_data, heldout=False)
    policies = next(option.choices for option in type(transceiver).options if option.name == UNKNOWN_WORDS)
    systems = {policy: type(transceiver)(transceiver.asr_model, transceiver.text_model, transceiver.vocabulary, policy) for policy in policies}
    for system in systems.values():
        system.recognizer = transceiver.recognizer  # one ASR pass per split for every policy
    cells = [("test", "text", channel, snr, None) for channel in CARD_CHANNELS for snr in CARD_SNRS]
    speech = [("test", channel, snr) for channel in CARD_CHANNELS for snr in TEXT_END_TO_END_SNRS] + [(HUMAN_SPLIT, "awgn", 20.0)] * (HUMAN_SPLIT in splits)
    cells += [(split, "speech", channel, snr, policy) for policy in policies for split, channel, snr in speech]
    rows = [_text_card_row("test", "speech", _asr_alone(transceiver, splits["test"]), splits["test"], config)]
    for split, given, channel, snr, policy in cells:
        measured = measure(systems[policy] if policy else transceiver, splits[split], make_channel(channel), snr, seed=CARD_SEED, transcripts=given == "text")
        rows.append({**_text_card_row(split, given, measured, splits[split], config), UNKNOWN_WORDS: policy})
    return rows


def measure_codec_run(transceiver: Transceiver, data_dir, utterances: int | None = None, human_data=None) -> list[dict]:
    """Codec rows (seed :data:`CARD_SEED`, no channel) per split (test, test_heldout if the corpus has it, human given ``human_data``):
    the ASR alone on the sent speech, then the codec system (``transceiver``) with each number of codebooks from all down to 1:
    bit rate, PESQ (wide band) and STOI of the decoded speech against the sent speech (means over utterances), and the ASR's CER on it."""
    rows = []
    for split, loaded in _card_splits(data_dir, utterances, human_data).items():
        asr = _asr_alone(transceiver, loaded).row()
        rows.append({"split": split, "codebooks": 0, "bits_per_second": None, "pesq": None, "stoi": None, **_without_time(asr)})
        for codebooks in range(transceiver.codebooks, 0, -1):
            system = type(transceiver)(transceiver.asr_model, transceiver.codec, codebooks)
            measured = measure(system, loaded, make_channel("none"), 0.0, seed=CARD_SEED)
            quality = mean_quality([item.waveform for item in loaded], [t.waveform for t in measured.transmissions])
            rows.append({
                "split": split, "codebooks": codebooks, "bits_per_second": system.bits_per_second,
                "pesq": quality["pesq"], "stoi": quality["stoi"], **_without_time(measured.row()),
            })
    return rows


def _card_splits(data_dir, utterances: int | None, human_data=None, heldout: bool = True) -> dict[str, list]:
    """The loaded splits a card measures, first ``utterances`` of each: test; test_heldout (``heldout``, if the corpus has it);
    the human dev set as :data:`HUMAN_SPLIT` given ``human_data``."""
    splits = {"test": load_utterances(data_dir, "test", utterances)}
    if heldout:
        try:
            splits["test_heldout"] = load_utterances(data_dir, "test_heldout", utterances)
        except UserError:  # corpora without held-out voices (LJSpeech) have no such split
            pass
    if human_data is not None:
        splits[HUMAN_SPLIT] = load_utterances(human_data, "all", utterances)
    return splits


def _asr_alone(transceiver: Transceiver, loaded) -> Measurement:
    """The shipped-ASR reference of a system with an ASR in front: the ASR alone on the clean speech."""
    return measure(DeepSCSTTransceiver(transceiver.models["asr"]), loaded, make_channel("none"), 0.0, seed=CARD_SEED)


def _without_time(row: dict) -> dict:
    return {key: value for key, value in row.items() if key != "elapsed_s"}


def _text_card_row(split: str, given: str, measured: Measurement, utterances, config: dict) -> dict:
    references = [item.utterance.text for item in utterances]
    padded_tokens = sum(len(sentences_of(text, config["max_tokens"] - 2)) * config["max_tokens"] for text in references)
    samples = sum(len(item.waveform) for item in utterances)
    return {
        "split": split, "input": given, **_without_time(measured.row()), "bleu1": bleu1(references, [t.text for t in measured.transmissions]),
        "padded_symbols_per_16000_samples": padded_tokens * (config["channel_encoder_units"][-1] // 2) * SAMPLE_RATE / samples,
    }


def _epoch_seconds(history: list[dict]) -> list[float] | None:
    """Wall time of each epoch from the ``epoch_s`` column, None for runs logged before the column existed."""
    return [float(row["epoch_s"]) for row in history] if history and "epoch_s" in history[0] else None


def _recorded_seconds(history: list[dict]) -> float | None:
    seconds = _epoch_seconds(history)
    return sum(seconds) if seconds is not None else None


def _command(run: dict, history: list[dict], run_dir) -> str:
    """The ``deepsc-st train`` command of a run, with the epochs it finished."""
    settings = TrainingSettings.from_run(run)
    settings.epochs = len(history)
    return settings.command_line(run_dir)


def _lineage(run: dict, own_command: str) -> tuple[list[str], list[dict]]:
    """The training commands and card lines of the runs this one was initialised from (``--init-from``), oldest first.

    Walking back stops at a shipped model (a folder with ``measurements.json``):
    its card already records how it was made, and that record is taken over.
    If that record ends with ``own_command``, the run was shipped before over
    the folder it started from: its record less that last line is the lineage.
    """
    commands, ancestors, source = [], [], _folder(run.get("init_from"))
    while source and (source / checkpoint.RUN_FILE).is_file() and (source / HISTORY_FILE).is_file():
        history = read_history(source)
        if (source / MEASUREMENTS_FILE).is_file():
            facts = checkpoint.read_json(source / MEASUREMENTS_FILE)["facts"]
            if facts["commands"][-1] == own_command:
                return facts["commands"][:-1] + commands, facts["ancestors"] + ancestors
            last = {"run": facts["commands"][-1].rsplit(" --out ", 1)[-1], "epochs": len(history), **_final_score(history), "seconds": facts["training_seconds"]}
            return facts["commands"] + commands, facts["ancestors"] + [last] + ancestors
        ancestor = checkpoint.migrate_run(checkpoint.read_json(source / checkpoint.RUN_FILE))
        commands.insert(0, _command(ancestor, history, source))
        ancestors.insert(0, {"run": str(source), "epochs": len(history), **_final_score(history), "seconds": _recorded_seconds(history)})
        source = _folder(ancestor.get("init_from"))
    return commands, ancestors


def _folder(init_from: str | None) -> Path | None:
    """An ``--init-from`` value as its folder (it may name a shipped model)."""
    return None if not init_from else model_folder(init_from)


def _title(run: dict) -> str:
    if run["kind"] == CODEC_KIND:
        return "Speech codec (Language-Codec style: SEANet encoder, MCRVQ, Vocos decoder), no channel"
    if run["kind"] == "asr":
        return "ASR-only model (no channel)"
    system = "DeepSC text transceiver of SR+DeepSC" if run["kind"] == TEXT_KIND else "DeepSC-ST"
    return f"{system} trained under {run['channel']} at {snr_range_text(run['snr_db'])} dB"


def card_facts(
    run_dir: Path, model, run: dict, history: list[dict], data_dir, training_seconds: float | None, note: str | None, measured_with: dict | None = None
) -> dict:
    """What the card says besides the measurements and the per-epoch table, as stored in ``measurements.json``."""
    own_command = _command(run, history, run_dir)
    commands, ancestors = _lineage(run, own_command)
    return {
        "title": _title(run),
        "config": run["config"]["name"],
        "trainable_parameters": model.trainable_parameter_count(),
        "weights_mb": round((Path(run_dir) / checkpoint.MODEL_WEIGHTS).stat().st_size / 1e6, 1),
        "commands": commands + [own_command],
        "ancestors": ancestors,
        "corpus": _corpus_facts(run["data"], data_dir),
        "training_seconds": training_seconds if training_seconds is not None else _recorded_seconds(history),
        "hardware": f"{os.cpu_count()} CPU cores ({platform.processor() or platform.machine()}), no GPU",
        "commit": run.get("commit") or "unknown",
        "note": note,
        **({"measured_with": measured_with} if measured_with else {}),
    }


def _corpus_facts(data: str, data_dir) -> dict | list[dict]:
    """Seed and manifest checksum of the run's corpus: ``data_dir``'s manifest; for a run on several corpora, a list of each one's."""
    folders = data.split(",")
    if len(folders) == 1:
        return corpus_facts(data_dir, name=data)
    return [corpus_facts(folder) for folder in folders]


def _progress_lines(history: list[dict]) -> list[str]:
    """The per-epoch table (cumulative training minutes, loss, validation CER); empty without ``epoch_s``."""
    seconds = _epoch_seconds(history)
    if seconds is None:
        return []
    label = _validation(history[-1])[0]
    lines = ["## Training progress", "", f"| epoch | minutes (cumulative) | training loss | {label} |", "| --- | --- | --- | --- |"]
    for row, elapsed in zip(history, itertools.accumulate(seconds)):
        lines.append(f"| {int(row['epoch']) + 1} | {elapsed / 60:.1f} | {float(row['loss']):.2f} | {_validation(row)[1]:.4f} |")
    return lines + [""]


VALIDATION_SCORES = {"val_cer": "validation CER", "val_mel_loss": "validation mel loss"}  # speech and text runs; a codec run


def _validation_key(row: dict) -> str:
    """The key of a history row's (or an ancestor's) validation score: ``val_cer``, or ``val_mel_loss`` for a codec run."""
    return "val_cer" if "val_cer" in row else "val_mel_loss"


def _validation(row: dict) -> tuple[str, float]:
    """(label, value) of an epoch's validation score: CER for speech and text runs, the mel loss for a codec run."""
    key = _validation_key(row)
    return VALIDATION_SCORES[key], float(row[key])


def _final_score(history: list[dict]) -> dict:
    """The last epoch's validation score as an ancestor records it (``{key: value}``, :func:`_validation_key`)."""
    key = _validation_key(history[-1])
    return {key: float(history[-1][key])}


def _ancestor_line(order: int, ancestor: dict) -> str:
    """The card line of the ``order``-th run (0: the oldest) this one was initialised from, in that order."""
    spent = f"{ancestor['seconds'] / 60:.1f} min." if ancestor["seconds"] else "time not in its history.csv."
    label, value = _validation(ancestor)
    return f"- {'Then' if order else 'First'} `{ancestor['run']}`: {ancestor['epochs']} epochs, {label} {value:.4f}, {spent}"


def render_card(facts: dict, rows: list[dict], history: list[dict]) -> str:
    """The text of ``MODEL.md`` from its facts, measurement rows and the run's ``history.csv`` rows."""
    seconds, corpus = facts["training_seconds"], facts["corpus"]
    lines = [
        f"# {facts['title']}: `{facts['config']}` configuration",
        "",
        f"Trainable parameters: {facts['trainable_parameters']:,}. Weights: `{checkpoint.MODEL_WEIGHTS}` ({facts['weights_mb']:.1f} MB); "
        f"settings: `{checkpoint.RUN_FILE}`; per-epoch loss and validation CER: `{HISTORY_FILE}`; "
        f"the numbers below and the facts above: `{MEASUREMENTS_FILE}`.",
        "",
        "## How it was made",
        "",
        "```",
        *facts["commands"],
        "```",
        "",
        *(_ancestor_line(order, ancestor) for order, ancestor in enumerate(facts["ancestors"])),
        *(f"- Corpus: `{one['data']}`, seed {one['seed']}, manifest checksum `{one['checksum']}`." for one in (corpus if isinstance(corpus, list) else [corpus])),
        f"- Epochs: {len(history)}; final training loss {float(history[-1]['loss']):.2f}, {_validation(history[-1])[0]} {_validation(history[-1])[1]:.4f}.",
        (f"- Training time: {seconds / 60:.1f} min" + (" (this run)" if facts["ancestors"] else "")) if seconds else "- Training time: not recorded",
        f"- Hardware: {facts['hardware']}.",
        f"- Trained at commit: `{facts['commit']}`.",
        "",
        *_progress_lines(history),
        *(_text_rows(facts, rows) if rows and "input" in rows[0] else _codec_rows(facts, rows) if rows and "codebooks" in rows[0] else _speech_rows(rows)),
    ]
    if facts["note"]:
        lines += ["", "## Notes", "", facts["note"]]
    return "\n".join(lines) + "\n"


def _measured_table(heading: str, intro: str | None, header: list[str], cells: list[list[str]]) -> list[str]:
    """A card's "Measured" section: a heading, an optional paragraph, and a Markdown table of ``cells`` (one list per row)."""
    lines = [heading, ""] + ([intro, ""] if intro else [])
    lines += ["| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    return lines + ["| " + " | ".join(cell) + " |" for cell in cells]


def _snr_cell(row: dict) -> str:
    return "-" if row["channel"] == "none" else f"{row['snr_db']:g}"


def _speech_rows(rows: list[dict]) -> list[str]:
    """The measured table of a speech run (ASR or DeepSC-ST)."""
    return _measured_table(
        f"## Measured (`deepsc-st evaluate --seed {CARD_SEED}`, CTC greedy decoding)",
        None,
        ["split", "channel", "SNR (dB)", "CER", "WER", "utterances", "symbols / 16,000 samples"],
        [[row["split"], row["channel"], _snr_cell(row), f"{row['cer']:.4f}", f"{row['wer']:.4f}", str(row["utterances"]), f"{row['symbols_per_16000_samples']:.0f}"] for row in rows],
    )


def _text_rows(facts: dict, rows: list[dict]) -> list[str]:
    """The measured table of a DeepSC text run: the text link alone, the ASR alone, SR+DeepSC end to end."""
    front = facts.get("measured_with", {}).get("asr", "the shipped ASR")
    return _measured_table(
        f"## Measured (seed {CARD_SEED}; greedy decoding; ASR in front: `{front}`)",
        "Input `text`: the test transcripts through the DeepSC text link alone. Input `speech`: the ASR alone "
        "(channel none), then SR+DeepSC end to end with each `--unknown-words` policy: a recognised word outside the "
        "vocabulary goes as UNK (unk; UNK decodes to nothing, but a model that never saw it in training decodes a vocabulary word there), or goes as the nearest vocabulary word in edit distance (nearest). "
        "Symbols are sent per word token (START and END included); *padded* is what padding every sentence "
        "to the model's sentence length would cost, as the published code does.",
        ["split", "input", "system", "unknown words", "channel", "SNR (dB)", "CER", "WER", "BLEU-1", "utterances", "symbols / 16,000 samples", "padded"],
        [
            [row["split"], row["input"], row["system"], row.get(UNKNOWN_WORDS) or "-", row["channel"], _snr_cell(row), f"{row['cer']:.4f}", f"{row['wer']:.4f}", f"{row['bleu1']:.4f}",
             str(row["utterances"]), f"{row['symbols_per_16000_samples']:.0f}", f"{row['padded_symbols_per_16000_samples']:.0f}"]
            for row in rows
        ],
    )


def _codec_rows(facts: dict, rows: list[dict]) -> list[str]:
    """The measured table of a codec run: per split, the ASR on the sent speech, then the codec at each number of codebooks."""
    asr = facts.get("measured_with", {}).get("asr", "the shipped ASR")

    def cells(row: dict) -> list[str]:
        scores = [f"{row['cer']:.4f}", f"{row['wer']:.4f}", str(row["utterances"])]
        if not row["codebooks"]:
            return [row["split"], "0", "(sent speech)", "-", "-", *scores, "-"]
        return [row["split"], str(row["codebooks"]), f"{row['bits_per_second']:.0f}", f"{row['pesq']:.3f}", f"{row['stoi']:.3f}", *scores, f"{row['symbols_per_16000_samples']:.0f}"]

    return _measured_table(
        f"## Measured (seed {CARD_SEED}, no channel; ASR at the receiver: `{asr}`)",
        "Codebooks 0: the ASR on the sent speech itself (the reference CER). PESQ (ITU-T P.862.2 wide band, PyPI `pesq`) "
        "and STOI (PyPI `pystoi`) of the decoded speech against the sent speech, means over the utterances.",
        ["split", "codebooks", "bit/s", "PESQ (wb)", "STOI", "CER", "WER", "utterances", "symbols / 16,000 samples"],
        [cells(row) for row in rows],
    )


def render_shipped_card(model_dir) -> str:
    """``MODEL.md`` as :func:`render_card` makes it from the files in a shipped model folder."""
    stored = checkpoint.read_json(Path(model_dir) / MEASUREMENTS_FILE)
    return render_card(stored["facts"], stored["rows"], read_history(model_dir))


def write_model_card(
    run_dir, out_dir, data_dir, utterances: int | None = None, training_seconds: float | None = None, note: str | None = None, human_data=None,
    transceiver: Transceiver | None = None, measured_with: dict | None = None,
) -> Path:
    """Copy the run's model into ``out_dir``, measure it, and write ``measurements.json`` and ``MODEL.md``; returns the card's path.

    ``out_dir`` may be ``run_dir`` itself: a shipped model is measured again and
    its card rewritten, keeping the facts of how it was made.
    ``training_seconds``: the run's wall time when its ``history.csv`` has no
    ``epoch_s``. ``note``: free text for a "Notes" section. ``human_data``:
    the human-speech dev set folder, measured as split "human".
    ``transceiver``: the system that measures a DeepSC text run (SR+DeepSC,
    ASR in front); ``measured_with``: its other models' folders, recorded in the facts.
    """
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    model, run = checkpoint.load_run(run_dir)
    history = read_history(run_dir)
    in_place = out_dir.resolve() == run_dir.resolve() and (run_dir / MEASUREMENTS_FILE).is_file()
    if in_place:  # a shipped model measured again: what it was made from stays as recorded
        facts = checkpoint.read_json(run_dir / MEASUREMENTS_FILE)["facts"]
        facts["note"] = note if note is not None else facts["note"]
    else:
        facts = card_facts(run_dir, model, run, history, data_dir, training_seconds, note, measured_with)
    rows = measure_run(model, run, data_dir, utterances, human_data, transceiver)

    out_dir.mkdir(parents=True, exist_ok=True)
    if not in_place:
        for name in SHIPPED_FILES + ((VOCABULARY_FILE,) if run["kind"] == TEXT_KIND else ()):
            checkpoint.write_atomically(out_dir / name, lambda p, name=name: shutil.copyfile(run_dir / name, p))
    checkpoint.write_json(out_dir / MEASUREMENTS_FILE, {"facts": facts, "rows": rows})
    card = out_dir / CARD_FILE
    checkpoint.write_atomically(card, lambda p: Path(p).write_text(render_card(facts, rows, history)))
    return card
