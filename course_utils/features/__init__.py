"""The audio features of the course, one module per kind of feature, and the one table of feature types.

- ``spectral``: the waveform and the log-mel spectrogram (``f_get_waveform``, ``f_get_lms``). 02_features.
- ``pitch``: the harmonic CQT (``f_get_hcqt``; a CQT is one harmonic) and its pitch grid in Hz and MIDI
  (``f_get_pitch_grid_hz``, ``f_get_pitch_grid_midi``). 02_features, 06_training_multipitch.
- ``_hcqt_engine``: the fast multirate engine behind ``f_get_hcqt`` (private). 02_features.
- ``rhythm``: the onset strength and the tempogram (``f_get_tempogram``). 05_training_tagging.
- ``chroma``: the 12 pitch classes of the audio (``f_get_chroma``; ``chroma_sequence``, what the cover baselines
  compare). 07_training_covers.
- ``stft``: the STFT both ways (a whole track, the frames of a patch, the inverse with a given phase) and the
  ``stft`` feature (``f_get_stft``); ``course_utils.spectrogram`` in notebook 08. 08_source_separation.
- ``patches``: the patches a dataset cuts from a feature (``f_get_patches``). 02_features.
- ``table``: the one table of feature types (``FEATURE_TYPE_D``: how each is computed, its hop, frames, bins,
  channels and context on the fly) and a model's input shape (``feature_input_dim``). 02_features.

The notebooks read them all through ``course_utils.feature`` (``feature.f_get_lms``, ``feature.FEATURE_TYPE_D``,
...), the original course's names. A new feature type is its compute function in the module of its kind (or a new
module here for a new kind) and one entry in ``table.FEATURE_TYPE_D``: docs/extending.md.
"""
