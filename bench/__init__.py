"""Benchmarks of the hub (`make bench`, or `python -m bench [figure ...]`): one module per figure,
together writing bench/results.json. See bench/README.md."""
