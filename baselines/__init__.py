"""Conventional transceivers: source codecs, polar code + 64-QAM link."""
