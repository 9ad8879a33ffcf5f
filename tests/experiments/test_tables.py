from experiments.results import CellResult
from experiments.tables import parameters_table, symbols_table, threshold_table


def cell(system, channel, snr_db, cer, symbols=100.0, parameters=None):
    return CellResult(
        system=system, channel=channel, snr_db=snr_db, cer=cer, wer=cer, utterances=4, symbols_per_16000_samples=symbols, seed=0, cell_seed=1,
        elapsed_s=0.1, trainable_parameters=parameters,
    )


def test_sr_deepsc_rows_stand_next_to_the_papers_statements():
    cells = [cell("sr-deepsc", "awgn", 0.0, 0.4), cell("sr-deepsc", "awgn", 8.0, 0.05), cell("sr-deepsc", "rayleigh", 0.0, 0.9), cell("sr-deepsc", "rayleigh", 8.0, 0.3)]
    thresholds = threshold_table(cells)
    assert "| sr-deepsc | awgn | 8 dB | — | — |" in thresholds
    assert "| sr-deepsc | rayleigh | not reached (CER > 0.15 at 8 dB) | — | never readable |" in thresholds
    assert "| sr-deepsc | 100 | 120 |" in symbols_table(cells)
    assert "92,212,016 (SR+DeepSC)" in parameters_table([cell("sr-deepsc", "awgn", 0.0, 0.4, parameters=5)])


def test_speech_quality_snrs_are_the_lowest_the_nearest_0_db_and_the_highest():
    from experiments.tables import speech_quality_snrs

    assert speech_quality_snrs([-12.0, -2.0, 2.0, 8.0, 20.0]) == [-12.0, -2.0, 20.0]  # a tie at 0 dB goes to the lower
    assert speech_quality_snrs([10.0, 12.0]) == [10.0, 12.0]
