"""Benchmarks: the app measured against the physical limit on the same machine, in the same run.

`python -m benchmarks` runs them all and writes `benchmarks/results.md`; see README.md here.
Timing lives here and only here: the tests run these at tiny sizes and never assert on speed.
"""
