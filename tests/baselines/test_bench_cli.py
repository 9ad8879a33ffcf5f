import json

import pytest

from baselines import polar_bench
from experiments.cli import main


def test_bench_polar_prints_the_table_or_json(capsys, monkeypatch):
    # The real benchmark builds Sionna's SCL graph (minutes on 2 cores); here only the wiring is checked.
    result = {"ours_info_bits_per_s": 1.0e6, "speedup_vs_cpu": 100.0}
    monkeypatch.setattr(polar_bench, "run_polar_benchmark", lambda: result)
    monkeypatch.setattr(polar_bench, "format_polar_benchmark", lambda r: f"table of {sorted(r)}")
    assert main(["bench", "polar"]) == 0
    assert capsys.readouterr().out == "table of ['ours_info_bits_per_s', 'speedup_vs_cpu']\n"
    assert main(["bench", "polar", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == result


def test_bench_unknown_benchmark(capsys):
    assert main(["bench", "ldpc"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["deepsc-st: error: unknown benchmark 'ldpc'; choose one of polar, pipeline, ctc, demo, bler, link, sweep, codecs, transmit"]


@pytest.mark.slow  # compiles two LDPC decoders
def test_link_benchmark_times_every_stage_without_errors():
    from baselines.link_bench import STAGES, format_link_benchmark, run_link_benchmark

    results = run_link_benchmark(bits_per_message=3000)
    demappers = results.pop("demappers")
    assert demappers["max_llr_difference"] < 1e-3 and demappers["sionna_qam"] > 0 and demappers["per_axis"] > 0
    encoders = results.pop("encoders")
    assert encoders["equal"] and encoders["sionna"] > 0 and encoders["packed"] > 0
    assert len(results) == 3
    for result in results.values():
        assert result["bit_errors"] == 0 and result["info_mbit_per_s"] > 0
        assert set(result["stages"]) == set(STAGES) and sum(result["stages"].values()) <= result["seconds"] * 1.01
    assert format_link_benchmark(results).splitlines()[0].startswith("link")
