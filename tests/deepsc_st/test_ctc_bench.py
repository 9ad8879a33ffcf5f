import json

from experiments.cli import main
from deepsc_st.ctc_bench import run_ctc_benchmark


def test_sparse_label_ctc_loss_matches_the_dense_library_call():
    result = run_ctc_benchmark(batch=4, steps=60, max_label=20, repeats=1)
    assert result["loss_difference"] < 1e-3
    assert result["max_gradient_difference"] < 1e-4
    assert result["dense_labels_s"] > 0 and result["sparse_labels_s"] > 0


def test_bench_ctc_prints_json(capsys, monkeypatch):
    monkeypatch.setattr("deepsc_st.ctc_bench.run_ctc_benchmark", lambda: {"speedup": 20.0})
    assert main(["bench", "ctc", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"speedup": 20.0}
