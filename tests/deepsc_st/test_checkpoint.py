import json

import pytest

from deepsc_st import checkpoint
from deepsc_st.checkpoint import RUN_VERSION, migrate_run, read_json, write_atomically, write_json
from deepsc_st.config import get_config
from deepsc_st.errors import UserError
from deepsc_st.train import TrainingSettings

V1_COSINE_RUN = {  # as version 1 wrote it: options absent when off, epochs only for a cosine schedule
    "kind": "asr", "config": get_config("tiny").to_dict(), "data": "data/synth", "channel": "none", "snr_db": [8.0, 8.0],
    "batch_size": 16, "learning_rate": 0.001, "lr_schedule": "cosine", "schedule_epochs": 5, "seed": 0,
    "block_length": 128, "k_factor": 1.0, "max_utterances": None, "init_from": "runs/asr", "commit": "abc",
}


def test_version_1_runs_read_as_the_current_version():
    run = migrate_run(V1_COSINE_RUN)
    assert run["version"] == RUN_VERSION and run["epochs"] == 5 and "schedule_epochs" not in run
    assert run["spec_augment"] is False and run["freeze_encoder"] is False and run["validation_utterances"] == 200
    settings = TrainingSettings.from_run(V1_COSINE_RUN)
    assert settings.lr_schedule == "cosine" and settings.epochs == 5 and settings.init_from == "runs/asr"
    constant = {key: value for key, value in V1_COSINE_RUN.items() if key not in ("lr_schedule", "schedule_epochs")}
    assert migrate_run(constant)["lr_schedule"] == "constant" and migrate_run(constant)["epochs"] is None


def test_current_runs_round_trip_and_newer_ones_are_refused():
    settings = TrainingSettings(config=get_config("tiny"), data="data/synth", channel="awgn", snr_db=(2.0, 6.0), spec_augment=True)
    run = json.loads(json.dumps(settings.to_run()))
    assert migrate_run(run) == run and TrainingSettings.from_run(run) == settings
    with pytest.raises(UserError, match=f"version {RUN_VERSION + 1} is newer"):
        migrate_run({**run, "version": RUN_VERSION + 1})


def test_version_2_runs_had_no_unspoken_text():
    version_2 = {key: value for key, value in migrate_run(V1_COSINE_RUN).items() if key != "unspoken_text"} | {"version": 2}
    assert migrate_run(version_2)["unspoken_text"] is False and migrate_run(version_2)["version"] == RUN_VERSION


def test_version_3_runs_drew_no_random_words():
    version_3 = {key: value for key, value in migrate_run(V1_COSINE_RUN).items() if key != "random_words"} | {"version": 3}
    assert migrate_run(version_3)["random_words"] == 0.0 and migrate_run(version_3)["version"] == RUN_VERSION


def test_version_5_runs_replaced_no_words_by_unk():
    version_5 = {key: value for key, value in migrate_run(V1_COSINE_RUN).items() if key != "unk_words"} | {"version": 5}
    assert migrate_run(version_5)["unk_words"] == 0.0 and migrate_run(version_5)["version"] == RUN_VERSION


def test_version_4_runs_warped_no_spectrograms():
    version_4 = {key: value for key, value in migrate_run(V1_COSINE_RUN).items() if key != "vtlp"} | {"version": 4}
    assert migrate_run(version_4)["vtlp"] is False and migrate_run(version_4)["version"] == RUN_VERSION


def test_files_are_replaced_whole(tmp_path):
    path = tmp_path / "values.json"
    write_json(path, {"a": 1})

    def interrupted(temporary):
        temporary.write_text("{")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(path, interrupted)
    assert read_json(path) == {"a": 1}  # the half-written file never replaced the good one


def test_unreadable_json_and_missing_weights_are_one_line_errors(tmp_path):
    (tmp_path / "run.json").write_text("{not json")
    with pytest.raises(UserError, match="not valid JSON"):
        read_json(tmp_path / "run.json")
    with pytest.raises(UserError, match="no such file"):
        read_json(tmp_path / "missing.json")
    with pytest.raises(UserError, match="no such model folder"):
        checkpoint.load_run(tmp_path / "nowhere")
