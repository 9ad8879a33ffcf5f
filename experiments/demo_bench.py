"""``deepsc-st bench demo``: the web demo's response times and a bounded load test, through its HTTP API.

It starts the demo on a free local port (models loaded and graphs traced
once, timed as ``startup_s``), then, with Gradio's own client (the requests a
browser's button makes go through the same queue):

* ``first_response_s``: the first request after start, a speech clip of
  about 5 s (``--input`` or a sentence spoken by a registered voice);
* ``later_response_s``: the median of ``REPEATS`` more (``later_max_s`` the slowest);
* ``concurrent``: ``CONCURRENT`` requests submitted at once; how many came
  back with text, the slowest one's wait, and whether the server still
  answers afterwards.

Targets (issue 22): first response under 5 s, later ones under 2 s, all 20 concurrent requests answered.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from deepsc_st.audio import load_audio, write_audio
from deepsc_st.frontend import SAMPLE_RATE
from deepsc_st.synthesis import DEFAULT_USER, RegisteredVoices

BENCH_SENTENCE = "the committee met on tuesday to discuss the new budget for the city library and the schools of the town"
BENCH_SYSTEM = "deepsc-st"
BENCH_CHANNEL = "awgn"
BENCH_SNR_DB = 10.0
REPEATS = 5
CONCURRENT = 20


def spoken_clip(path: Path) -> Path:
    """``BENCH_SENTENCE`` spoken by the default registered voice (espeak-ng, about 5 s at 16 kHz), written to ``path``."""
    write_audio(path, RegisteredVoices().synthesize(BENCH_SENTENCE, DEFAULT_USER))
    return path


def run_demo_benchmark(input_path: str | None = None, system: str = BENCH_SYSTEM) -> dict:
    """Response times of ``system`` in the demo (seconds), and the load test's counts."""
    from gradio_client import Client, handle_file

    from experiments.demo import DEFAULT_HOST, DemoSession, free_port, serve

    with tempfile.TemporaryDirectory() as scratch:
        clip = Path(input_path) if input_path else spoken_clip(Path(scratch) / "clip.wav")
        clip_seconds = len(load_audio(clip)) / SAMPLE_RATE
        start = time.perf_counter()
        session = DemoSession()
        app, url = serve(session, DEFAULT_HOST, free_port())
        startup = time.perf_counter() - start
        try:
            # Answers are not downloaded: Gradio names cached outputs by content, and identical concurrent
            # answers (same clip, same seed) rewrite the file another download is reading.
            client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
            arguments = (handle_file(str(clip)), system, BENCH_CHANNEL, BENCH_SNR_DB, DEFAULT_USER, BENCH_SENTENCE if input_path is None else "")

            def request() -> tuple[float, str]:
                began = time.perf_counter()
                status, text, *_ = client.predict(*arguments, api_name="/transmit")
                return time.perf_counter() - began, text if not status.startswith("**Error") else ""

            first, text = request()
            later = [request()[0] for _ in range(REPEATS)]
            began = time.perf_counter()
            jobs = [client.submit(*arguments, api_name="/transmit") for _ in range(CONCURRENT)]
            answers = [job.result(timeout=600) for job in jobs]
            all_seconds = time.perf_counter() - began
            still_up, _ = request()
        finally:
            app.close(verbose=False)
    return {
        "system": system,
        "clip_s": round(clip_seconds, 2),
        "startup_s": round(startup, 2),
        "first_response_s": round(first, 3),
        "later_response_s": round(statistics.median(later), 3),
        "later_max_s": round(max(later), 3),
        "concurrent_requests": CONCURRENT,
        "concurrent_answered": sum(1 for status, answer, *_ in answers if answer and not status.startswith("**Error")),
        "concurrent_all_s": round(all_seconds, 2),
        "answers_after_load_s": round(still_up, 3),
        "text": text,
    }
