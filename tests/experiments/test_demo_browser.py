"""The web demo in headless Chromium (Debian's chromium + chromium-driver, driven by Selenium) with the shipped models.

Each test leaves a screenshot of its final state in ``test-artifacts/demo/``
(or ``$DEEPSC_TEST_ARTIFACTS/demo/``).
"""

import os
import shutil
import time
from pathlib import Path

import pytest

from baselines.text_transceiver import TextTransceiver
from deepsc_st.audio import write_audio
from deepsc_st.metrics import word_error_rate
from deepsc_st.synthesis import RegisteredVoices
from deepsc_st.transceiver import DeepSCSTTransceiver
from experiments.demo import DemoSession, UploadLimits, free_port, serve
from experiments.systems import Registry

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (shutil.which("chromium") and shutil.which("chromedriver")), reason="needs Debian's chromium and chromium-driver (make setup)"),
]

SENTENCE = "she walked to the village with her sister"
ARTIFACTS = Path(os.environ.get("DEEPSC_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")) / "demo"
CHROMIUM_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync --window-size=1400,1300 --use-fake-ui-for-media-stream --use-fake-device-for-media-stream"
).split()
WAIT_S = 60


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "sentence.wav"
    write_audio(path, RegisteredVoices().synthesize(SENTENCE, "spk00"))
    return path


@pytest.fixture(scope="module")
def demo():
    """The demo with the shipped DeepSC-ST and text systems, at most 0.5 MB and 8 s per input (no warm-up: the first request traces its graphs)."""
    session = DemoSession(Registry((DeepSCSTTransceiver, TextTransceiver)), limits=UploadLimits(max_megabytes=0.5, max_seconds=8.0), warm_up=False)
    app, url = serve(session, "127.0.0.1", free_port())
    yield session, url
    app.close(verbose=False)


@pytest.fixture
def browser(clip, request):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in CHROMIUM_FLAGS + [f"--use-file-for-fake-audio-capture={clip}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
    driver.quit()


def _find(driver, css):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, css)


def _wait_for(check, what):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"no {what} within {WAIT_S} s")


def _open(driver, url):
    driver.get(url)
    _wait_for(lambda: driver.find_elements("css selector", "#transmit"), "page")


LOADED = "#speech-input button[aria-label='Clear']"  # shown once the input holds audio


def _upload(driver, path):
    _find(driver, "#speech-input input[type=file]").send_keys(str(path))
    _wait_for(lambda: driver.find_elements("css selector", LOADED), "the uploaded audio")


def _press_and_read(driver, button="#transmit"):
    _find(driver, button).click()
    return _wait_for(lambda: _find(driver, "#status").text.strip(), "status line")


def test_upload_a_wav_press_transmit_and_read_the_recovered_text(demo, browser, clip):
    session, url = demo
    _open(browser, url)
    _upload(browser, clip)
    status = _press_and_read(browser)
    text = _find(browser, "#recovered-text textarea").get_attribute("value")
    assert status.startswith("deepsc-st: done in")
    assert text == session.transmit(clip, "deepsc-st", "awgn", 10, "spk00").text  # what the system recovered, seeded alike
    assert word_error_rate([SENTENCE], [text]) <= 0.5, text
    assert browser.find_elements("css selector", "#picture img, #picture canvas, #picture svg")


def test_record_through_the_microphone_and_get_text_back(demo, browser):
    _, url = demo
    _open(browser, url)
    _find(browser, "#speech-input button[aria-label='Record audio']").click()
    _wait_for(lambda: browser.find_elements("css selector", "#speech-input button.record-button"), "record button").pop().click()
    time.sleep(4)  # Chromium's fake microphone plays the clip in a loop
    _wait_for(lambda: browser.find_elements("css selector", "#speech-input button.stop-button"), "stop button").pop().click()
    _wait_for(lambda: browser.find_elements("css selector", LOADED), "the recording")
    status = _press_and_read(browser)
    text = _find(browser, "#recovered-text textarea").get_attribute("value")
    assert status.startswith("deepsc-st: done in"), status
    assert len(set(text.split()) & set(SENTENCE.split())) >= 4, text


def test_all_systems_mode_fills_the_table(demo, browser, clip):
    _, url = demo
    _open(browser, url)
    _upload(browser, clip)
    _find(browser, "#reference textarea").send_keys(SENTENCE)
    status = _press_and_read(browser, "#transmit-all")
    assert status.startswith("all systems: done in"), status
    table = _wait_for(lambda: "text" in _find(browser, "#all-systems").text and _find(browser, "#all-systems").text, "table rows")
    assert "deepsc-st" in table and "text" in table


def test_a_file_that_is_not_audio_gets_a_message_and_the_server_keeps_serving(demo, browser, clip, tmp_path):
    _, url = demo
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not speech")
    _open(browser, url)
    _find(browser, "#speech-input input[type=file]").send_keys(str(not_audio))
    time.sleep(1)
    assert "notes.wav: not a readable audio file" in _press_and_read(browser)
    _open(browser, url)
    _upload(browser, clip)
    assert _press_and_read(browser).startswith("deepsc-st: done in")


def test_speech_over_the_length_cap_gets_a_message(demo, browser, clip, tmp_path):
    import numpy as np
    import soundfile

    long_clip = tmp_path / "long.wav"
    speech, rate = soundfile.read(clip, dtype="float32")
    soundfile.write(long_clip, np.tile(speech, 4)[: rate * 9], rate, subtype="PCM_16")  # 9 s, 0.29 MB
    _open(browser, demo[1])
    _upload(browser, long_clip)
    assert "the speech is 9.0 s long; this demo takes at most 8 s" in _press_and_read(browser)


def test_a_file_over_the_size_cap_is_refused_in_the_page(demo, browser, tmp_path):
    import numpy as np
    import soundfile

    big = tmp_path / "big.wav"  # 4 s at 48 kHz, 16-bit stereo: 0.77 MB (the page sends 16-bit PCM; a float file shrinks on the way)
    soundfile.write(big, (0.1 * np.random.default_rng(0).standard_normal((48000 * 4, 2))).astype(np.float32), 48000, subtype="PCM_16")
    _open(browser, demo[1])
    _find(browser, "#speech-input input[type=file]").send_keys(str(big))
    _wait_for(lambda: "exceed the maximum allowed size" in browser.page_source, "Gradio's size message")
    assert "choose a speech file or record one first" in _press_and_read(browser)
