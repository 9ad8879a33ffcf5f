"""The espeak-ng corpus generator on a 30-utterance corpus.

Needs the Debian packages espeak-ng and r-cran-janeaustenr; without them the tests fail
with a one-line message naming the package (no skip, so a missing install step shows).
"""

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from deepsc_st import corpus
from deepsc_st.errors import UserError
from deepsc_st.tokens import normalize_text

UTTERANCES = 30


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("corpus")
    summary = corpus.generate_corpus(out_dir, utterances=UTTERANCES, seed=3, progress=False)
    return out_dir, summary


def _metadata(out_dir: Path) -> list[list[str]]:
    return [line.split("|") for line in (out_dir / "metadata.csv").read_text(encoding="utf-8").splitlines()]


def test_layout_and_summary(tiny):
    out_dir, summary = tiny
    for name in ("metadata.csv", "speakers.json", "splits.json", "utterance_speakers.json", "manifest.json"):
        assert (out_dir / name).is_file(), name
    assert summary["utterances"] == UTTERANCES
    assert summary["train"] + summary["validation"] + summary["test"] + summary["test_heldout"] == UTTERANCES
    assert summary["hours"] > 0 and summary["distinct_words"] > 50 and summary["elapsed_s"] >= 0
    manifest = json.loads((out_dir / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["espeak_ng"] == corpus.espeak_version()
    assert manifest["counts"]["hours"] == summary["hours"]
    assert manifest["text_source"]["usable_sentences"] >= 10_000
    assert json.loads((out_dir / "speakers.json").read_text()) == corpus.ESPEAK_SPEAKERS  # the default voice set
    assert sorted(p.name for p in (out_dir / "wavs").iterdir()) == sorted(f"{row[0]}.wav" for row in _metadata(out_dir))


def test_metadata_format(tiny):
    out_dir, _ = tiny
    rows = _metadata(out_dir)
    assert len(rows) == UTTERANCES
    for utterance_id, text, normalized in rows:
        assert text and "\n" not in text and not text.startswith("id")
        assert normalized == normalize_text(corpus.spoken_text(text)).text
        assert 2 <= len(normalized.split())
    assert len({normalized for _, _, normalized in rows}) == UTTERANCES  # deduplicated
    assert [int(row[0].split("-")[1]) for row in rows] == sorted(int(row[0].split("-")[1]) for row in rows)


def test_wavs_are_16khz_mono_pcm16_within_2_to_12_s(tiny):
    out_dir, _ = tiny
    for path in (out_dir / "wavs").glob("*.wav"):
        info = sf.info(path)
        assert (info.samplerate, info.channels, info.subtype, info.format) == (16000, 1, "PCM_16", "WAV")
        assert corpus.MIN_SECONDS <= info.duration <= corpus.MAX_SECONDS
        audio, _ = sf.read(path, dtype="float32")
        assert np.abs(audio).max() > 0.05  # speech, not silence


def test_splits_are_disjoint_and_heldout_speakers_unseen(tiny):
    out_dir, _ = tiny
    splits = json.loads((out_dir / "splits.json").read_text())
    speaker_of = json.loads((out_dir / "utterance_speakers.json").read_text())
    text_of = {row[0]: row[2] for row in _metadata(out_dir)}
    assert list(splits) == ["train", "validation", "test", "test_heldout"]
    assert all(splits.values())
    ids = [i for members in splits.values() for i in members]
    assert sorted(ids) == sorted(text_of) == sorted(speaker_of)
    sentences = {name: {text_of[i] for i in members} for name, members in splits.items()}
    speakers = {name: {speaker_of[i] for i in members} for name, members in splits.items()}
    names = list(splits)
    for a in names:
        for b in names[names.index(a) + 1:]:
            assert not sentences[a] & sentences[b], (a, b)
    assert speakers["test_heldout"] <= set(corpus.HELDOUT_SPEAKERS)
    assert not speakers["test_heldout"] & (speakers["train"] | speakers["validation"] | speakers["test"])
    assert all(i.startswith(speaker_of[i] + "-") for i in ids)


def test_same_seed_gives_identical_files_and_resume_redoes_only_missing(tiny, tmp_path):
    out_dir, summary = tiny
    again = corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False)
    assert again["checksum"] == summary["checksum"]
    for name in ("metadata.csv", "splits.json", "manifest.json"):
        assert (tmp_path / name).read_bytes() == (out_dir / name).read_bytes()

    wavs = sorted((tmp_path / "wavs").glob("*.wav"))
    victim = wavs[len(wavs) // 2]
    victim.unlink()
    (tmp_path / "manifest.json").unlink()
    before = {p.name: p.stat().st_mtime_ns for p in wavs if p != victim}
    resumed = corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False)
    assert resumed["checksum"] == summary["checksum"]
    assert victim.is_file() and (tmp_path / "manifest.json").is_file()
    assert {p.name: p.stat().st_mtime_ns for p in wavs if p != victim} == before


def test_other_parameters_in_same_folder_are_refused(tiny):
    out_dir, _ = tiny
    with pytest.raises(UserError, match="other parameters"):
        corpus.generate_corpus(out_dir, utterances=UTTERANCES, seed=4, progress=False)


def test_missing_text_package_names_it(tmp_path):
    with pytest.raises(UserError, match=corpus.TEXT_PACKAGE):
        corpus.read_novels(tmp_path / "Rdata")


def test_speaker_registry_and_voice_sets():
    assert set(corpus.HELDOUT_SPEAKERS) < set(corpus.ESPEAK_SPEAKERS) <= set(corpus.SPEAKERS)
    audio = corpus.synthesize(corpus.SPEAKERS["spk00"], "-not an option")  # text is never read as an espeak-ng option
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert 0.3 < len(audio) / corpus.SAMPLE_RATE < 3


@pytest.mark.parametrize("name", sorted(corpus.VOICE_SETS))
def test_held_out_voices_never_speak_in_training(name):
    voice_set = corpus.VOICE_SETS[name]
    plan, _ = corpus._plan(4000, 400, seed=0, voice_set=voice_set)
    speakers = {split: {u.speaker for u in plan if u.split == split} for split in ("train", "validation", "test", "test_heldout")}
    assert speakers["test_heldout"] == set(voice_set["heldout"])
    assert not speakers["test_heldout"] & (speakers["train"] | speakers["validation"] | speakers["test"])
    voice = {user: (corpus.SPEAKERS[user].get("engine", "espeak-ng"), corpus.SPEAKERS[user].get("name")) for user in corpus.SPEAKERS}
    trained_voices = {voice[user] for user in speakers["train"]}
    if name == "mixed":  # whole engine voices are held out, not only speaker settings
        assert {voice[user] for user in voice_set["heldout"]} - trained_voices == {("flite", "rms"), ("festival", "ked_diphone")}
        assert {engine for engine, _ in trained_voices} == {"espeak-ng", "flite", "festival", "piper"}
    if name == "kokoro":  # one voice of each accent and sex never trained on
        assert sorted(voice[user][1] for user in voice_set["heldout"]) == ["af_river", "am_puck", "bf_lily", "bm_lewis"]
        assert {engine for engine, _ in trained_voices} == {"kokoro"} and len(trained_voices) == 24
    if name == "kokoro-blends":  # no trained blend holds a held-out Kokoro voice; the held-out blends hold nothing else
        components = {split: {n for user in speakers[split] for n in corpus.SPEAKERS[user]["blend"]} for split in ("train", "test_heldout")}
        assert components["test_heldout"] == set(corpus.KOKORO_HELDOUT_VOICES)
        assert not components["train"] & set(corpus.KOKORO_HELDOUT_VOICES) and len(speakers["train"]) == 56
        assert all(abs(sum(corpus.SPEAKERS[user]["blend"].values()) - 1) < 1e-9 for user in corpus.KOKORO_BLEND_SPEAKERS)
    if name == "kokoro-all":  # the Kokoro voices and blends together: no held-out Kokoro voice is trained on, alone or blended
        styles = {split: {n for user in speakers[split] for n in corpus.SPEAKERS[user].get("blend") or [corpus.SPEAKERS[user]["name"]]}
                  for split in ("train", "test_heldout")}
        assert styles["test_heldout"] == set(corpus.KOKORO_HELDOUT_VOICES) and not styles["train"] & styles["test_heldout"]
        assert len(speakers["train"]) == 24 + 56


def test_a_corpus_can_exclude_every_sentence_of_others(tiny, tmp_path):
    out_dir, _ = tiny
    spoken = {row[2] for row in _metadata(out_dir)}
    corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False, exclude_sentences_of=(str(out_dir),))
    assert spoken and not spoken & {row[2] for row in _metadata(tmp_path)}  # the same seed, no sentence in common
    assert json.loads((tmp_path / "generation.json").read_text())["exclude_sentences_of"] == [str(out_dir)]


def test_unknown_voice_set(tmp_path):
    with pytest.raises(UserError, match="unknown voice set 'robots'; choose one of espeak, mixed, kokoro, kokoro-blends, kokoro-all"):
        corpus.generate_corpus(tmp_path, utterances=8, voice_set="robots", progress=False)


def test_utterances_outside_2_to_12_s_are_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus, "_ESTIMATE_MARGIN", -30.0)  # let every sentence length into the pool
    summary = corpus.generate_corpus(tmp_path, utterances=12, seed=1, progress=False)
    assert summary["rejected"] > 0 and summary["utterances"] == 12
    splits = json.loads((tmp_path / "splits.json").read_text())
    assert [len(splits[name]) for name in splits] == [9, 1, 1, 1]
    rows = _metadata(tmp_path)
    assert max(int(row[0].split("-")[1]) for row in rows) >= 12  # replacements get new numbers
    assert len(list((tmp_path / "wavs").glob("*.wav"))) == 12
    for row in rows:
        assert corpus.MIN_SECONDS <= sf.info(tmp_path / "wavs" / f"{row[0]}.wav").duration <= corpus.MAX_SECONDS


def test_some_splits_only_then_the_rest(tiny, tmp_path):
    """``--splits test,validation`` (make reproduce) writes exactly those utterances of the whole corpus; a rerun adds the rest."""
    from deepsc_st.data import read_utterances

    out_dir, summary = tiny
    partial = corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False, splits=("test", "validation"))
    full_splits = json.loads((out_dir / "splits.json").read_text())
    assert json.loads((tmp_path / "splits.json").read_text()) == {name: full_splits[name] for name in ("validation", "test")}
    assert partial["utterances"] == len(full_splits["test"]) + len(full_splits["validation"])
    for utterance_id in full_splits["test"] + full_splits["validation"]:
        assert (tmp_path / "wavs" / f"{utterance_id}.wav").read_bytes() == (out_dir / "wavs" / f"{utterance_id}.wav").read_bytes()
    assert not any((tmp_path / "wavs" / f"{i}.wav").exists() for i in full_splits["train"])
    assert json.loads((tmp_path / "manifest.json").read_text())["splits"] == ["validation", "test"]
    with pytest.raises(UserError, match="generated with --splits: run deepsc-st corpus --out"):
        read_utterances(tmp_path, "train")
    finished = corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False)
    assert finished["checksum"] == summary["checksum"]


def test_a_rerun_with_other_splits_keeps_the_ones_made(tiny, tmp_path):
    """Adding test_heldout to a corpus that has test must not drop test from its index (the wavs alone are not enough)."""
    from deepsc_st.data import read_utterances

    out_dir, _ = tiny
    corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False, splits=("test",))
    summary = corpus.generate_corpus(tmp_path, utterances=UTTERANCES, seed=3, progress=False, splits=("test_heldout",))
    full_splits = json.loads((out_dir / "splits.json").read_text())
    assert json.loads((tmp_path / "splits.json").read_text()) == {name: full_splits[name] for name in ("test", "test_heldout")}
    assert json.loads((tmp_path / "manifest.json").read_text())["splits"] == ["test", "test_heldout"]
    assert summary["utterances"] == len(full_splits["test"]) + len(full_splits["test_heldout"])
    assert [u.id for u in read_utterances(tmp_path, "test")] == full_splits["test"]


def test_unknown_split(tmp_path):
    with pytest.raises(UserError, match="--splits: unknown split 'tests'; choose from train, validation, test, test_heldout"):
        corpus.generate_corpus(tmp_path, utterances=8, splits=("tests",), progress=False)
