"""The jobs: one generic runner (:mod:`jobs.runner`) and one package per job.

A job is plain steps over a run folder — compute, book once, reports, publish — and knows nothing of
Prefect; ``flows/`` names its steps as tasks. Jobs stand on the store (``ledger``) and the pure stages
(``parsers``, ``matching``, ``outputs``); nothing below imports a job.
"""
