"""`make benchmark`: what a sync costs against both simulators, and what planning costs at scale.

``python -m benchmark [--size S|M|L] ...``; see ``benchmark.cli`` for the options and ``README.md``
(Benchmark) for what each figure means.
"""
