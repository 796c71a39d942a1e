"""Synthetic municipality and bank files with ground truth, for tests, the demo and benchmarks.

>>> # s = generate(Path("out"), seed=1)            # open_items.csv, statements/, truth.parquet, kasse.toml
>>> # write_mt940_file(Path("big.sta"), 1_000_000)  # benchmark input
"""

from synth.bench import write_camt053_file, write_mt940_file
from synth.generated import ROUND_TWO_TRUTH_SCHEMA, TRUTH_SCHEMA, GeneratedSet
from synth.municipality import generate
from synth.scale import generate_scale

__all__ = ["ROUND_TWO_TRUTH_SCHEMA", "TRUTH_SCHEMA", "GeneratedSet", "generate", "generate_scale", "write_camt053_file", "write_mt940_file"]
