"""The web demo's request path (experiments/demo.py) with a model-free echo system: answers, limits, bad input, and 20 queued requests.

The page itself, in a real browser with the shipped models, is tested in test_demo_browser.py.
"""

import numpy as np
import pytest
import soundfile

from deepsc_st.errors import UserError
from deepsc_st.transceiver import ReceiverSpeech, Transceiver, Transmission
from experiments.demo import DemoSession, UploadLimits, free_port, serve
from experiments.systems import Registry
from tests.cli_helpers import assert_one_line_error, run_cli

ECHO_TEXT = "the cat sat on the mat"


class EchoSystem(Transceiver):
    """Always recovers ECHO_TEXT; its receiver 'decodes' the sent speech unchanged; one symbol per 100 samples."""

    name = "echo"
    receiver_speech = ReceiverSpeech.DECODED

    @classmethod
    def from_parts(cls, parts):
        return cls()

    def transmit(self, waveforms, channel, snr_db):
        return [Transmission(ECHO_TEXT, len(w) // 100, waveform=w) for w in waveforms]


class BrokenSystem(EchoSystem):
    name = "broken"

    @classmethod
    def from_parts(cls, parts):
        raise UserError("its library is missing")


ECHO_REGISTRY = Registry((EchoSystem, BrokenSystem))


@pytest.fixture
def session():
    return DemoSession(ECHO_REGISTRY, limits=UploadLimits(max_megabytes=0.1, max_seconds=2.0))


def write_wav(path, seconds=1.0, value=None, subtype="PCM_16"):
    samples = np.full(int(16000 * seconds), value, np.float32) if value is not None else 0.1 * np.sin(np.arange(int(16000 * seconds)) * 0.05).astype(np.float32)
    soundfile.write(path, samples, 16000, subtype=subtype)
    return path


def write_bytes(path, content):
    path.write_bytes(content)
    return path


def test_a_request_answers_with_text_scores_speech_and_a_picture(session, tmp_path):
    result = session.transmit(write_wav(tmp_path / "a.wav"), "echo", "rayleigh", "4.5", "spk00", reference="The cat sat on a mat!")
    assert (result.system, result.text, result.channel_symbols) == ("echo", ECHO_TEXT, 160)
    assert result.wer == pytest.approx(1 / 6) and result.cer == pytest.approx(3 / 20)
    assert result.speech.shape == (16000,)
    assert [axes.get_title() for axes in result.figure.axes] == ["sent speech", "receiver's speech"]


def test_a_system_that_cannot_build_is_left_out_with_its_reason(session, tmp_path):
    assert session.systems == ("echo",)
    assert session.unavailable == {"broken": "its library is missing"}
    with pytest.raises(UserError, match="system 'broken' is not available: its library is missing"):
        session.transmit(write_wav(tmp_path / "a.wav"), "broken", "awgn", 10)
    assert [r.system for r in session.transmit_each(tmp_path / "a.wav", "awgn", 10)] == ["echo"]


@pytest.mark.parametrize(
    "make_input, arguments, message",
    [
        (lambda d: None, {}, "choose a speech file or record one first"),
        (lambda d: write_bytes(d / "x.wav", b"not audio"), {}, "x.wav: not a readable audio file"),
        (lambda d: write_bytes(d / "e.wav", b""), {}, "e.wav: not a readable audio file"),
        (lambda d: write_wav(d / "s.wav", value=0.0), {}, "s.wav: the audio is silent"),
        (lambda d: write_wav(d / "n.wav", value=np.nan, subtype="FLOAT"), {}, "n.wav: the audio holds NaN"),
        (lambda d: write_wav(d / "l.wav", seconds=3.0), {}, "the speech is 3.0 s long; this demo takes at most 2 s"),
        (lambda d: write_wav(d / "b.wav", seconds=1.9, subtype="FLOAT"), {}, "the file is 0.1 MB; this demo takes at most 0.1 MB"),
        (lambda d: write_wav(d / "a.wav"), {"system": "nope"}, "unknown system 'nope'; choose one of echo"),
        (lambda d: write_wav(d / "a.wav"), {"channel": "none"}, "unknown channel 'none'; choose one of awgn, rayleigh, rician"),
        (lambda d: write_wav(d / "a.wav"), {"snr_db": "loud"}, "'loud' is not a number of dB"),
        (lambda d: write_wav(d / "a.wav"), {"user": "nobody"}, "unknown user 'nobody'"),
    ],
)
def test_bad_input_is_a_one_line_error(session, tmp_path, make_input, arguments, message):
    request = {"system": "echo", "channel": "awgn", "snr_db": 10, "user": "spk00", **arguments}
    with pytest.raises(UserError) as error:
        session.transmit(make_input(tmp_path), **request)
    assert message in str(error.value) and "\n" not in str(error.value) and str(tmp_path) not in str(error.value)


def test_twenty_concurrent_requests_all_come_back_and_the_server_keeps_serving(session, tmp_path):
    from gradio_client import Client, handle_file

    clip, bad = write_wav(tmp_path / "a.wav"), tmp_path / "bad.wav"
    bad.write_text("not audio")
    app, url = serve(session, "127.0.0.1", free_port())
    try:
        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)  # see experiments/demo_bench.py
        jobs = [client.submit(handle_file(str(clip)), "echo", "awgn", 10.0, "spk00", "", api_name="/transmit") for _ in range(20)]
        answers = [job.result(timeout=120) for job in jobs]
        assert [text for _, text, *_ in answers] == [ECHO_TEXT] * 20
        status, text, *_ = client.predict(handle_file(str(bad)), "echo", "awgn", 10.0, "spk00", "", api_name="/transmit")
        assert status.startswith("**Error:**") and "not a readable audio file" in status and text == ""
        status, rows, speech = client.predict(handle_file(str(clip)), "awgn", 10.0, "spk00", ECHO_TEXT, api_name="/transmit_all")
        assert [row[:3] for row in rows["data"]] == [["echo", ECHO_TEXT, "0.000"]] and speech is not None
    finally:
        app.close(verbose=False)


def test_the_demo_command_refuses_a_limit_that_is_not_positive(capsys):
    code, _, err = run_cli(capsys, "demo", "--max-seconds", "0")
    assert_one_line_error(code, err, "--max-seconds 0: must be more than 0")


def test_a_port_in_use_is_a_one_line_error(session):
    port = free_port()
    app, _ = serve(session, "127.0.0.1", port)
    try:
        with pytest.raises(UserError, match=f"cannot serve on 127.0.0.1:{port}: .*; choose another --port or --host"):
            serve(session, "127.0.0.1", port)
    finally:
        app.close(verbose=False)


def test_a_model_folder_that_does_not_exist_stops_the_demo(capsys, tmp_path):
    code, _, err = run_cli(capsys, "demo", "--model", tmp_path / "missing")
    assert_one_line_error(code, err, f"--model {tmp_path / 'missing'}: no such model folder")
