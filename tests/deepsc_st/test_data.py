import logging

import numpy as np
import pytest
import soundfile
import tensorflow as tf

from deepsc_st.config import get_config
from deepsc_st.data import (
    MAX_FREQUENCY_WIDTH,
    default_split,
    evaluation_dataset,
    load_utterances,
    read_utterances,
    spec_augment,
    training_batches_per_epoch,
    training_dataset,
)
from deepsc_st.errors import UserError
from deepsc_st.pipeline_bench import run_pipeline_benchmark

TINY = get_config("tiny")


@pytest.fixture
def fake_ljspeech(espeak_corpus, tmp_path):
    """An LJSpeech-like folder at 22,050 Hz (no splits.json), with three bad rows."""
    folder = tmp_path / "LJSpeech-1.1"
    (folder / "wavs").mkdir(parents=True)
    rows = []
    for index, line in enumerate((espeak_corpus / "metadata.csv").read_text().splitlines()):
        source_id, text, _ = line.split("|")
        samples, rate = soundfile.read(espeak_corpus / "wavs" / f"{source_id}.wav", dtype="float32")
        resampled = np.interp(np.arange(0, len(samples), rate / 22_050), np.arange(len(samples)), samples)
        soundfile.write(folder / "wavs" / f"LJ001-{index:04d}.wav", resampled, 22_050, subtype="PCM_16")
        rows.append(f"LJ001-{index:04d}|{text}|{text}")
    rows.append("LJ002-0001|A row whose wav is missing.|A row whose wav is missing.")
    (folder / "wavs" / "LJ002-0002.wav").write_text("not audio")
    rows.append("LJ002-0002|An unreadable wav.|An unreadable wav.")
    soundfile.write(folder / "wavs" / "LJ002-0003.wav", np.zeros(22_050, np.float32), 22_050)
    rows.append("LJ002-0003|||")
    (folder / "metadata.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_ljspeech_is_resampled_and_bad_rows_skipped_with_one_warning(fake_ljspeech, caplog):
    utterances = read_utterances(fake_ljspeech, "all")
    assert len(utterances) == 23
    assert utterances[0].text == "the cat sat on the mat"
    with caplog.at_level(logging.WARNING):
        loaded = load_utterances(fake_ljspeech, "all")
    assert len(loaded) == 20
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "skipped 3 of 23" in warnings[0]
    original = soundfile.info(fake_ljspeech / "wavs" / "LJ001-0000.wav")
    assert original.samplerate == 22_050
    assert abs(len(loaded[0].waveform) - original.frames * 16_000 / 22_050) < 2


def test_hash_splits_are_stable_and_disjoint(fake_ljspeech):
    splits = {name: {u.id for u in read_utterances(fake_ljspeech, name)} for name in ("train", "validation", "test")
              if _split_has_rows(fake_ljspeech, name)}
    assert splits["train"]
    all_ids = [i for ids in splits.values() for i in ids]
    assert len(all_ids) == len(set(all_ids))
    assert {u.id for u in read_utterances(fake_ljspeech, "train")} == splits["train"]


def _split_has_rows(folder, name):
    try:
        read_utterances(folder, name)
        return True
    except UserError:
        return False


def test_folder_of_wavs_with_transcripts(espeak_corpus, tmp_path):
    folder = tmp_path / "mine"
    (folder / "speaker1").mkdir(parents=True)
    for index in range(3):
        samples, rate = soundfile.read(espeak_corpus / "wavs" / f"utt{index:03d}.wav", dtype="float32")
        stereo = np.stack([samples, samples], axis=1)
        soundfile.write(folder / "speaker1" / f"take{index}.wav", stereo, rate)
    (folder / "speaker1" / "take0.txt").write_text("The cat sat on the mat!")
    (folder / "speaker1" / "take1.txt").write_text("A dog ran home.")
    utterances = read_utterances(folder, "all")
    assert [u.id for u in utterances] == ["speaker1/take0", "speaker1/take1", "speaker1/take2"]
    loaded = load_utterances(folder, "all")
    assert [item.utterance.text for item in loaded] == ["the cat sat on the mat", "a dog ran home"]
    assert loaded[0].waveform.ndim == 1
    assert default_split(folder) == "all"  # recordings are measured whole, not by their 5 % hash "test" split


def test_a_corpus_is_measured_on_its_test_split_by_default(fake_ljspeech):
    assert default_split(fake_ljspeech) == "test"


def test_training_batches_are_bucketed_and_padded(espeak_corpus):
    loaded = load_utterances(espeak_corpus, "train")
    batches = list(training_dataset(loaded, batch_size=4, seed=0))
    assert sum(int(b["frames"].shape[0]) for b in batches) == 20
    assert len(batches) == training_batches_per_epoch(loaded, 4)
    for batch in batches:
        frames = batch["frames"].numpy()
        assert batch["spectrogram"].shape[1] == frames.max() and batch["spectrogram"].shape[2] == 161
        assert frames.max() - frames.min() < 100  # one-second buckets
        assert batch["labels"].shape[1] == batch["label_length"].numpy().max()
    again = [b["frames"].numpy().tolist() for b in training_dataset(loaded, batch_size=4, seed=0)]
    assert again == [b["frames"].numpy().tolist() for b in batches]  # the seed fixes the order


def test_evaluation_batches_keep_order(espeak_corpus):
    loaded = load_utterances(espeak_corpus, "test")
    frames = [int(f) for b in evaluation_dataset(loaded, 8) for f in b["frames"].numpy()]
    assert frames == [1 + len(item.waveform) // 160 for item in loaded]


@pytest.mark.slow  # builds and steps a model
def test_pipeline_benchmark_reports_rates(espeak_corpus):
    result = run_pipeline_benchmark(espeak_corpus, "tiny", batch_size=4, batches=3, train_steps=1)
    assert result["pipeline_batches_per_s"] > 0 and result["train_steps_per_s"] > 0
    assert result["pipeline_over_training"] == pytest.approx(result["pipeline_batches_per_s"] / result["train_steps_per_s"])


def test_spec_augment_masks_up_to_two_bands_and_two_spans(espeak_corpus):
    ones = {"spectrogram": tf.ones([300, 161]), "frames": tf.constant(300), "labels": tf.constant([1, 2]), "label_length": tf.constant(2)}
    masked_bins, masked_frames = [], []
    for _ in range(50):
        out = spec_augment(ones)["spectrogram"].numpy()
        zero_columns, zero_rows = np.all(out == 0, axis=0), np.all(out == 0, axis=1)
        assert np.all((out == 1) | zero_columns[None, :] | zero_rows[:, None])  # zeros only in whole bands or spans
        masked_bins.append(zero_columns.sum() if not zero_rows.all() else 0)
        masked_frames.append(zero_rows.sum() if not zero_columns.all() else 0)
    assert max(masked_bins) <= 2 * MAX_FREQUENCY_WIDTH and max(masked_frames) <= 2 * 30  # 10 % of 300 frames per span
    assert np.mean(masked_bins) > 5 and np.mean(masked_frames) > 5
    loaded = load_utterances(espeak_corpus, "train")
    plain, augmented = (next(iter(training_dataset(loaded, batch_size=4, seed=0, augment=a))) for a in (False, True))
    assert plain["spectrogram"].shape == augmented["spectrogram"].shape
    changed = plain["spectrogram"].numpy() != augmented["spectrogram"].numpy()
    assert changed.any() and np.all(augmented["spectrogram"].numpy()[changed] == 0)


def test_vtlp_warps_spectrograms_and_leaves_labels_and_lengths(espeak_corpus):
    loaded = load_utterances(espeak_corpus, "train")
    plain, warped = (next(iter(training_dataset(loaded, batch_size=4, seed=0, vtlp=v))) for v in (False, True))
    for key in ("frames", "labels", "label_length"):
        np.testing.assert_array_equal(plain[key].numpy(), warped[key].numpy())
    assert plain["spectrogram"].shape == warped["spectrogram"].shape
    assert not np.allclose(plain["spectrogram"].numpy(), warped["spectrogram"].numpy(), atol=1e-3)
