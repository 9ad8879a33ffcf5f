"""The SNR sweep: files it writes, resumption after SIGKILL, parallel workers, bad input."""

import csv
import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from experiments.cli import main
from deepsc_st.errors import UserError
from experiments.sweep import SweepSettings, parse_snrs, run_sweep
from tests.experiments.test_sweep_fakes import CORPUS_ENV, FAKES, KILL_ENV

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module", autouse=True)
def fake_corpus(espeak_corpus):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CORPUS_ENV, str(espeak_corpus))
        yield espeak_corpus


def settings(corpus, results, **overrides) -> SweepSettings:
    """Two systems, one channel, two SNRs, eight utterances, in-process."""
    values = dict(name="t", data=str(corpus), systems=("oracle", "qpsk"), channels=("awgn",), snrs=(0.0, 10.0), utterances=8, seed=3, results=str(results), workers=1)
    return SweepSettings(**{**values, **overrides})


def rows_without_time(folder: Path) -> list[dict]:
    with open(folder / "results.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if k != "elapsed_s"} for row in csv.DictReader(handle)]


SWEEP_SCRIPT = (
    "import json, sys\n"
    "from experiments.sweep import SweepSettings, run_sweep\n"
    "from tests.experiments.test_sweep_fakes import FAKES\n"
    "values = json.loads(sys.argv[1])\n"
    "run_sweep(SweepSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}), FAKES, progress=False)\n"
)


def start_sweep_process(sweep: SweepSettings, env: dict | None = None) -> subprocess.Popen:
    """``run_sweep(sweep)`` with the fake systems in a new process (stderr piped, text), extra environment ``env``."""
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT, json.dumps(asdict(sweep))], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def swept(espeak_corpus, tmp_path_factory):
    """An uninterrupted sweep, with a fake training run for the loss figure."""
    root = tmp_path_factory.mktemp("sweep")
    run = root / "run-lr"
    run.mkdir()
    (run / "history.csv").write_text("epoch,loss,val_cer,val_loss\n0,90.5,0.9,80.1\n1,60.25,0.7,55.0\n2,41.0,0.5,\n")
    (run / "run.json").write_text(json.dumps({"learning_rate": 1e-4}))
    summary = run_sweep(settings(espeak_corpus, root / "results", loss_runs=(str(run),)), FAKES, progress=False)
    return summary


def test_sweep_writes_every_file(swept):
    folder = swept["folder"]
    assert swept["computed"] == swept["cells"] == 4
    rows = rows_without_time(folder)
    assert [(r["system"], r["channel"], float(r["snr_db"])) for r in rows] == [
        ("oracle", "awgn", 0.0),
        ("oracle", "awgn", 10.0),
        ("qpsk", "awgn", 0.0),
        ("qpsk", "awgn", 10.0),
    ]
    cer = {(r["system"], float(r["snr_db"])): float(r["cer"]) for r in rows}
    assert cer[("oracle", 0.0)] == 0.0 and cer[("qpsk", 0.0)] > cer[("qpsk", 10.0)]
    assert all(r["utterances"] == "8" and r["seed"] == "3" and float(r["symbols_per_16000_samples"]) > 0 for r in rows)
    assert len(list((folder / "cells").glob("[!.]*.json"))) == 4
    for stem in ("cer_vs_snr", "wer_vs_snr", "loss_vs_epoch"):
        assert (folder / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        assert (folder / f"{stem}.pdf").read_bytes()[:4] == b"%PDF"
        assert (folder / f"{stem}.png").stat().st_size > 5_000
    report = (folder / "report.md").read_text()
    for fragment in ("CER ≤ 0.15", "- CTC decoding: greedy", "cer_vs_snr.png", "loss_vs_epoch.png", "Table II", "section V-B", "Table IV", "about −2 dB", "6,600", "85,796,042"):
        assert fragment in report
    for table in ("thresholds", "symbols", "parameters", "examples"):
        assert (folder / f"{table}.md").read_text().startswith(("|", "Example sentences at 0 dB"))
    assert "| oracle | awgn | ≤ 0 dB (lowest swept) | — | — |" in report
    assert "| qpsk | awgn |" in report and "| 4.77 dB | — |" in report  # 2 bits per symbol: 10 log10(3)
    assert all(r["link_bits_per_symbol"] == ("2.0000" if r["system"] == "qpsk" else "") and r["note"] == "" for r in rows)
    assert not list(folder.rglob(".tmp-*"))


def test_no_speech_quality_without_an_asr_model(swept):
    rows = rows_without_time(swept["folder"])
    assert all(r["fdsd"] == r["kdsd"] == "" for r in rows)
    assert not (swept["folder"] / "fdsd_vs_snr.png").exists() and "FDSD" not in (swept["folder"] / "report.md").read_text()


def test_speech_quality_of_receivers_that_output_speech(espeak_corpus, overfit_asr_run, tmp_path):
    summary = run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle", "qpsk", "echo"), models={"asr": str(overfit_asr_run[0])}), FAKES, progress=False)
    folder = summary["folder"]
    rows = {(r["system"], float(r["snr_db"])): r for r in rows_without_time(folder)}
    assert rows[("qpsk", 0.0)]["fdsd"] == rows[("qpsk", 0.0)]["kdsd"] == ""  # no speech at its receiver
    assert rows[("oracle", 0.0)]["pesq"] == rows[("oracle", 0.0)]["stoi"] == ""  # synthesised speech: nothing to compare sample by sample
    assert float(rows[("echo", 0.0)]["pesq"]) == pytest.approx(4.644, abs=1e-3) and float(rows[("echo", 0.0)]["stoi"]) == pytest.approx(1.0, abs=1e-6)
    ground_truth = json.loads((folder / "ground_truth.json").read_text())
    for snr in (0.0, 10.0):
        # The oracle recovers every transcript, so its receiver speaks exactly the ground truth.
        assert float(rows[("oracle", snr)]["fdsd"]) == pytest.approx(ground_truth["fdsd"], rel=1e-6)
        assert float(rows[("oracle", snr)]["kdsd"]) == pytest.approx(ground_truth["kdsd"], rel=1e-6, abs=1e-9)
    assert ground_truth["fdsd"] > 0  # synthesised speech of user spk00 vs the corpus's own espeak-ng voice
    for stem in ("fdsd_vs_snr", "kdsd_vs_snr"):
        assert (folder / f"{stem}.png").stat().st_size > 5_000
    report = (folder / "report.md").read_text()
    assert "Figs. 7 and 8" in report and "fdsd_vs_snr.png" in report and "| ground truth |" in report and "PESQ at 0 dB" in report
    assert json.loads((folder / "sweep.json").read_text())["speech_reference"]["split"] == "validation"


def test_pesq_only_where_the_report_shows_it_unless_asked_for_every_snr(espeak_corpus, overfit_asr_run, tmp_path):
    def pesq_by_snr(**overrides):
        summary = run_sweep(
            settings(espeak_corpus, tmp_path, systems=("echo",), snrs=(0.0, 5.0, 10.0), models={"asr": str(overfit_asr_run[0])}, **overrides),
            FAKES, progress=False,
        )
        return {float(r["snr_db"]): r["pesq"] for r in rows_without_time(summary["folder"])}

    table_only = pesq_by_snr(name="table")
    assert table_only[5.0] == "" and float(table_only[0.0]) == float(table_only[10.0]) == pytest.approx(4.644, abs=1e-3)
    assert float(pesq_by_snr(name="every", pesq_at_every_snr=True)[5.0]) == pytest.approx(4.644, abs=1e-3)


def test_pesq_over_the_first_quality_utterances_of_a_cell(espeak_corpus, overfit_asr_run, tmp_path):
    def scored(**overrides):
        summary = run_sweep(settings(espeak_corpus, tmp_path, systems=("echo",), snrs=(0.0,), models={"asr": str(overfit_asr_run[0])}, **overrides), FAKES, progress=False)
        (row,) = rows_without_time(summary["folder"])
        return row, (summary["folder"] / "report.md").read_text()

    all_eight, _ = scored(name="all")
    assert all_eight["quality_utterances"] == all_eight["utterances"] == "8"  # the default tries 40
    two, report = scored(name="two", quality_utterances=2)
    assert two["quality_utterances"] == "2" and float(two["pesq"]) == pytest.approx(4.644, abs=1e-3)
    assert "that PESQ could score: 2 of 8" in report
    with pytest.raises(UserError, match="--quality-utterances: 0 is not a positive number"):
        scored(name="none", quality_utterances=0)


@pytest.mark.slow  # a subprocess killed mid-sweep
def test_killed_sweep_resumes_to_the_same_results(swept, espeak_corpus, tmp_path):
    resumed = settings(espeak_corpus, tmp_path)
    killed = start_sweep_process(resumed, {KILL_ENV: "2"})
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -signal.SIGKILL, err[-2000:]
    folder = tmp_path / "t"
    assert len(list((folder / "cells").glob("[!.]*.json"))) == 2
    assert len(rows_without_time(folder)) == 2  # complete, with the cells finished so far
    summary = run_sweep(resumed, FAKES, progress=False)
    assert summary["computed"] == 2
    assert rows_without_time(folder) == rows_without_time(swept["folder"])


@pytest.mark.slow  # spawned worker processes
def test_parallel_workers_give_the_same_results(swept, espeak_corpus, tmp_path):
    summary = run_sweep(settings(espeak_corpus, tmp_path, workers=2), FAKES, progress=False)
    assert summary["computed"] == 4
    assert rows_without_time(summary["folder"]) == rows_without_time(swept["folder"])


def test_added_snrs_add_cells_and_other_settings_are_refused(espeak_corpus, tmp_path):
    run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle",), snrs=(0.0,)), FAKES, progress=False)
    summary = run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle",), snrs=(0.0, 4.0)), FAKES, progress=False)
    assert (summary["computed"], summary["cells"]) == (1, 2)
    for change in ({"utterances": 5}, {"seed": 4}, {"split": "validation"}):
        with pytest.raises(UserError, match="choose another --name") as error:
            run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle",), **change), FAKES, progress=False)
        assert "\n" not in str(error.value)


def test_bits_that_do_not_fit_are_noted_not_failed(espeak_corpus, tmp_path):
    summary = run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle", "unfit")), FAKES, progress=False)
    rows = {(r["system"], float(r["snr_db"])): r for r in rows_without_time(summary["folder"])}
    assert rows[("unfit", 0.0)]["cer"] == "nan" and rows[("unfit", 0.0)]["note"].startswith("does not fit: ")
    assert rows[("oracle", 0.0)]["cer"] == "0.0"
    report = (summary["folder"] / "report.md").read_text()
    assert "| unfit | awgn | does not fit: " in report and "| unfit | does not fit |" in report
    assert (summary["folder"] / "cer_vs_snr.png").stat().st_size > 5_000


def test_another_link_policy_is_another_sweep(espeak_corpus, tmp_path):
    run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle",)), FAKES, progress=False)
    assert json.loads((tmp_path / "t" / "sweep.json").read_text())["link"] == "paper"
    with pytest.raises(UserError, match=r"another link policy \('paper' there, 'budget:deepsc-st' now\); choose another --name"):
        run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle",), options={"link": "budget"}), FAKES, progress=False)
    with pytest.raises(UserError, match="unknown link policy 'fast'"):
        run_sweep(settings(espeak_corpus, tmp_path, name="u", options={"link": "fast"}), FAKES, progress=False)


def test_unknown_names_are_one_line_errors_listing_the_valid_ones(espeak_corpus, tmp_path):
    with pytest.raises(UserError, match=r"unknown system 'nope'; choose from oracle, qpsk, unfit, echo$"):
        run_sweep(settings(espeak_corpus, tmp_path, systems=("oracle", "nope")), FAKES, progress=False)
    with pytest.raises(UserError, match=r"unknown channel 'fast'; choose from awgn, rayleigh, rician$"):
        run_sweep(settings(espeak_corpus, tmp_path, channels=("fast",)), FAKES, progress=False)
    assert not (tmp_path / "t").exists()


def test_cli_sweep_rejects_unknown_system(capsys):
    assert main(["sweep", "--systems", "deepsc-st,nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["deepsc-st: error: unknown system 'nope'; choose from deepsc-st, speech, text, feature, sr-deepsc, codec"]


@pytest.mark.parametrize(
    "text, expected",
    [("-12:20:2", tuple(float(s) for s in range(-12, 21, 2))), ("4,0,-0,4", (0.0, 4.0)), ("0:1:0.25", (0.0, 0.25, 0.5, 0.75, 1.0))],
)
def test_parse_snrs(text, expected):
    assert parse_snrs(text) == expected
    assert "-0.0" not in map(repr, parse_snrs(text))


@pytest.mark.parametrize("text", ["", "a,b", "0:10", "10:0:2", "0:10:0", "inf", "nan"])
def test_parse_snrs_rejects_bad_input(text):
    with pytest.raises(UserError, match="--snrs"):
        parse_snrs(text)
