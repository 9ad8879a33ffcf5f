from pathlib import Path

import numpy as np

from deepsc_st.data import LoadedUtterance, Utterance
from deepsc_st.measure import Measurement, cer_by_folder
from deepsc_st.transceiver import Transmission


def _measured(ids, references, hypotheses):
    utterances = [LoadedUtterance(Utterance(i, Path(f"{i}.wav"), ref), np.zeros(160, np.float32)) for i, ref in zip(ids, references)]
    measurement = Measurement("asr", "none", 0.0, 0.0, 0.0, len(ids), 0.0, 0, 0, 0.0, transmissions=[Transmission(h, 0) for h in hypotheses])
    return measurement, utterances


def test_cer_of_each_source_folder():
    measurement, utterances = _measured(
        ["asterisk/a", "warzone/b", "asterisk/c"], ["abcd", "abcd", "efgh"], ["abcd", "abxx", "efgx"]
    )
    assert cer_by_folder(measurement, utterances) == {"asterisk": 1 / 8, "warzone": 2 / 4}


def test_no_folders_no_groups():
    measurement, utterances = _measured(["spk00-00001"], ["abc"], ["abc"])
    assert cer_by_folder(measurement, utterances) == {}
