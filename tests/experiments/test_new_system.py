"""Adding a system with a model kind of its own: one class (here, in this file) plus one registry line.

The registry derives the command-line flags (``--toy-model``, ``--toy-gain``),
model lookup and the sweep's handling from the class's declarations alone.
"""

import dataclasses
import json

import numpy as np
import pytest
import tensorflow as tf

from deepsc_st.errors import UserError
from deepsc_st.transceiver import ModelKind, ReceiverSpeech, SystemOption, Transceiver, Transmission
from experiments.cli import build_parser
from experiments.sweep import SweepSettings, run_sweep
from experiments.systems import PROJECT_SYSTEMS, Registry


class ToyModelKind(ModelKind):
    """A "model" that is a JSON file with one number: how many symbols per sample the toy sends."""

    def load(self, run_dir):
        run = json.loads((run_dir / "toy.json").read_text())
        return run["symbols_per_sample"], run


TOY_MODEL = ToyModelKind("toy", "--toy-model", "a toy folder (toy.json)")
GAIN = SystemOption("toy_gain", "--toy-gain", "1", "multiplies the toy's symbol count")


class ToySystem(Transceiver):
    """Sends the reference text it is told about as one symbol per sample x gain; never wrong."""

    name = "toy"
    model_kinds = (TOY_MODEL,)
    options = (GAIN,)
    receiver_speech = ReceiverSpeech.NONE

    def __init__(self, symbols_per_sample: float, gain: float):
        self.symbols_per_sample, self.gain = symbols_per_sample, gain

    @classmethod
    def from_parts(cls, parts):
        return cls(parts.model(TOY_MODEL), float(parts.option(GAIN)))

    def transmit(self, waveforms, channel, snr_db):
        noise = channel(tf.ones([1, 4], tf.complex64), snr_db).symbols.numpy()  # draws from the seeded generator
        assert np.all(np.isfinite(noise))
        return [Transmission("the cat sat on the mat", int(len(w) * self.symbols_per_sample * self.gain)) for w in waveforms]


WITH_TOY = Registry((*PROJECT_SYSTEMS.systems, ToySystem))


def toy_folder(tmp_path):
    folder = tmp_path / "toy"
    folder.mkdir()
    (folder / "toy.json").write_text(json.dumps({"symbols_per_sample": 0.01}))
    return folder


def test_flags_come_from_the_declarations():
    args = build_parser(WITH_TOY).parse_args(["transmit", "x.wav", "--toy-model", "f", "--toy-gain", "3"])
    assert args.toy_model == "f" and args.toy_gain == "3" and args.asr_model is None
    assert [kind.option for kind in WITH_TOY.model_kinds] == ["--model", "--asr-model", "--text-model", "--codec-model", "--toy-model"]


def test_transmit_and_sweep_a_new_system(capsys, espeak_corpus, tmp_path):
    folder = toy_folder(tmp_path)
    wav = espeak_corpus / "wavs" / "utt000.wav"
    code, out, err = run_cli_with(capsys, WITH_TOY, "transmit", wav, "--system", "toy", "--toy-model", folder, "--toy-gain", "2", "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert sent["system"] == "toy" and sent["text"] == "the cat sat on the mat"
    settings = SweepSettings(
        name="toy", data=str(espeak_corpus), utterances=1, systems=("toy",), channels=("awgn",), snrs=(0.0,),
        models={"toy": str(folder)}, options={"toy_gain": "2"}, results=str(tmp_path / "results"), workers=1, speech_quality=False,
    )
    summary = run_sweep(settings, WITH_TOY, progress=False)
    [cell] = [json.loads(path.read_text()) for path in (summary["folder"] / "cells").glob("*.json")]
    assert cell["cer"] == 0.0 and cell["symbols_per_16000_samples"] == pytest.approx(320.0, abs=0.5)  # 0.01 x 2 symbols per sample
    assert cell["models"] == {"toy": None}  # a toy folder has no model.weights.h5 to fingerprint
    assert json.loads((summary["folder"] / "sweep.json").read_text())["options"] == {"toy_gain": "2"}
    for other in ({"toy_gain": "3"}, {}):  # other numbers: another sweep, also when the option goes back to its default
        with pytest.raises(UserError, match=r"another system options \(\{'toy_gain': '2'\} there, .* now\); choose another --name"):
            run_sweep(dataclasses.replace(settings, options=other), WITH_TOY, progress=False)


def test_a_missing_toy_model_names_its_flag(capsys, espeak_corpus, tmp_path):
    code, _, err = run_cli_with(capsys, WITH_TOY, "transmit", espeak_corpus / "wavs" / "utt000.wav", "--system", "toy")
    assert code == 2 and "pass --toy-model RUNDIR" in err


def run_cli_with(capsys, registry, *argv):
    from experiments.cli import main

    code = main([str(a) for a in argv], registry)
    captured = capsys.readouterr()
    return code, captured.out, captured.err
