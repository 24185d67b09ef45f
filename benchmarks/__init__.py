"""The course's benchmarks and measurements: a package, each run from the repository's root as a module.

    .venv/bin/python -m benchmarks.results --seeds 3      # every notebook in the default mode: README's results
    .venv/bin/python -m benchmarks.transfer --seeds 0 1 2  # leave one sample library out (tagging, multi-pitch)

``common`` is the one home of what they share: the seeds argument, the 'mean ± sd' cell and the markdown table.
"""
