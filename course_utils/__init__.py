"""course_utils: the small package behind the notebooks of the course.

Modules, one concept each:

- ``runtime``: fast mode, device choice (CUDA, then MPS, then CPU) and seeding.
- ``feature``: waveform, log-mel and harmonic-CQT features, patches, feature cache.
- ``model_factory``: a whole PyTorch model built from a YAML file (``NetModel``).
- ``dataset``: the ``Dataset`` classes of the course (tagging, multi-pitch, covers).
- ``data``: the offline course dataset (scores of the music21 corpus rendered to audio).
"""

__version__ = "0.1.0"
