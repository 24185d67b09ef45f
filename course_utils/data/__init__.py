"""The offline course dataset: scores of the music21 corpus (Bach chorales, fiddle tunes) rendered to
audio by our own synthesiser, with labels for tagging, multi-pitch estimation and cover-song identification.

    python -m course_utils.data build --preset small --out data

Modules: ``scores`` (reading the corpus, grouping chorales into tunes), ``synth`` (the synthesiser),
``sampled`` (the sampled renderers: recorded General-MIDI samples of two libraries, read by ``soundfont``),
``plan`` (presets, which scores to render, the split by work), ``render`` (one track: score -> audio +
labels), ``build`` (writing and checking the files, ``ensure_dataset``), ``real`` (the original course's
real datasets).
"""
