from deepsc_st import shipped


def test_model_label_names_shipped_models_and_keeps_other_paths(tmp_path, monkeypatch):
    monkeypatch.setattr(shipped, "PACKAGE_MODELS", tmp_path / "package")
    (tmp_path / "package" / "asr-small").mkdir(parents=True)
    (tmp_path / "runs" / "asr-small").mkdir(parents=True)
    assert shipped.model_label(tmp_path / "package" / "asr-small") == "asr-small"  # the shipped one: its name
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / "asr-small").symlink_to(tmp_path / "package" / "asr-small")
    assert shipped.model_label(tmp_path / "link" / "asr-small") == "asr-small"  # another way to the same folder
    assert shipped.model_label(tmp_path / "runs" / "asr-small") == str(tmp_path / "runs" / "asr-small")  # same name, not shipped
    assert shipped.model_label("runs/asr-vtlp") == "runs/asr-vtlp"  # nothing shipped by that name
