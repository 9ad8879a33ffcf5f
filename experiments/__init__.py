"""SNR-sweep harness, result storage, figures and tables."""
