"""Synthetic municipality and bank files with ground truth, for tests, the demo and benchmarks."""

from synth.bench import write_camt053_file, write_mt940_file

__all__ = ["write_camt053_file", "write_mt940_file"]
