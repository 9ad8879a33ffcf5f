"""DeepSC-ST: semantic communication for speech (transmitter, receiver, training)."""
