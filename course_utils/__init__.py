"""course_utils: the small package behind the notebooks of the course.

Modules, one concept each, with the notebook that teaches each:

- ``runtime``: fast mode, device (CUDA, MPS, CPU), seeds, the course folder. Every notebook's first cell.
- ``config``: ``load_config`` and ``Config``, a YAML experiment read as ``config.feature.hop_length`` or
  ``config["feature"]["hop_length"]``; ``ConfigError``. 04_model_from_yaml.
- ``data``: the offline course dataset: ``scores`` (the music21 corpus), ``renderers`` (who plays a track:
  ``synth``, ``sampled`` with ``soundfont``), ``recording`` (the chain every renderer shares), ``plan``,
  ``render``, ``build`` (``ensure_dataset``), ``real`` (the original course's datasets), and its command
  (``__main__``: ``python -m course_utils.data build``). 01_data.
- ``audio_store``: the two files of a dataset (``pair_paths``, ``pair_problem``), reading the ``_audio.hdf5`` file
  and a file of your own (``load_audio``),
  checking audio arrays. 01_data.
- ``features``: the audio features, one module per kind, where a new feature type goes: ``spectral`` (waveform,
  log-mel), ``pitch`` (HCQT and its pitch grid, with the private ``_hcqt_engine``), ``rhythm`` (tempogram),
  ``chroma`` (the 12 pitch classes, the cover baselines'), ``stft`` (the STFT both ways), ``patches``
  (``f_get_patches``), and ``table``, the one table of feature types (``FEATURE_TYPE_D``: hop, frames, bins,
  channels, context) with a model's input shape. 02_features; the tempogram: 05_training_tagging; chroma: 07.
- ``feature``: the features under the original course's names, as the notebooks call them (``feature.f_get_lms``,
  ``feature.f_get_hcqt``, ``feature.f_get_patches``, ``feature.FEATURE_TYPE_D``, ...): names only, the code is
  in ``features``. 02_features and every notebook after it.
- ``annotation``: ``.pyjama`` fields to targets (labels, frames, piano rolls, works); the split by work.
  03_dataset.
- ``feature_cache``: features computed once into an HDF5 file; precomputed features. 03_dataset, 07.
- ``placement``: where a dataset's features live (memory, disk, on the fly, or read from a file). 03_dataset.
- ``dataset``: ``TagDataset``, ``PitchDataset``, ``CoverDataset``: the unit of ``idx``, whole tracks.
  03_dataset.
- ``model_factory`` (with ``layers``): ``NetModel``, a whole model from the YAML ``model`` section.
  04_model_from_yaml.
- ``train``: the one training loop of every task: ``training_step``, ``fit`` (a batch loss of the task's, early
  stopping or the last epoch kept, checkpoints), ``make_loaders``, ``on_device``; the train section of a config
  checked (``train_settings``). 05_training_tagging.
- ``checkpoint``: a trained model as ``.pt`` + ``.yaml``, saved safely and loaded back. 05_training_tagging.
- ``augment``: training-time augmentation of feature batches (``RandomEQ``). 05_training_tagging.
- ``task``: what a task is (multiclass, multilabel, segment, pitch, cover, separation, contrastive, reconstruction,
  language_model, flow): its Dataset, loss, activation, whole-track predictions (``predict_track``) and test
  scores; the splits of a config, set B included (``split_datasets``). 05-11.
- ``model_inspect``: a model's block diagram and receptive field. 04_model_from_yaml.
- ``processes``: worker processes that end with their parent (the data build, the feature cache).
- ``safe_files``: files written whole or not at all, locks between processes, a full disk named
  (``DiskFullError``): every file the course writes (datasets, caches, checkpoints, results); librosa's compiled
  modules imported one process at a time (their numba cache, filled by two processes at once, crashes later ones).
- ``metrics``: triplet loss, ranking metrics (MAP, MR1, ...), multi-pitch scores with mir_eval.
  06_training_multipitch, 07_training_covers.
- ``covers``: cover identification's stages and baselines: the melody's chroma, DTW alignment under the best
  transposition, chroma profiles, the fusion of two distances, scores per kind of version. 07_training_covers.
- ``spectrogram``: ``features.stft`` under the name notebook 08 uses (``spectrogram.stft``). 08_source_separation.
- ``_hcqt_engine``: ``features._hcqt_engine`` at the path that notebook 02's text names (private).
- ``separation``: source separation of the chorale voices: ``SeparationDataset`` (the stems), masks (the ideal
  ratio mask, a score-informed harmonic mask), whole-track separation, SDR and SI-SDR. 08_source_separation.
- ``contrastive``: self-supervised pretraining without labels: two views of a track (``TrackCrops``,
  ``FeatureViews``), the NT-Xent loss, a YAML encoder with a projection head, ``pretrain``. 09_self_supervised.
- ``probe``: what a pretrained encoder is worth: linear probes on its frozen embeddings against the same encoder
  trained from scratch, with a share of the labels (``label_subset``, ``label_efficiency``). 09_self_supervised.
- ``bottleneck``: the auto-encoders' bottlenecks as YAML layers: ``GaussianLatent`` (a VAE's, the KL per dimension,
  free bits) and ``VectorQuantize`` (VQ and residual VQ: straight-through gradient, commitment loss, k-means
  init, dead-code expiry), codebook ``perplexity`` and usage. 10_autoencoders.
- ``codec``: the ``reconstruction`` task: ``ReconstructionDataset``, the batch losses of an auto-encoder and a VAE
  (KL warm-up), a model cut at its bottleneck (``encode``, ``decode``), the bit rate, the PCA baseline.
  10_autoencoders.
- ``resynthesis``: sound back from a magnitude (the original's phase, or Griffin-Lim), Opus at a low bit rate, the
  multi-resolution STFT distance. 10_autoencoders.
- ``kept``: what a codec keeps for the course's tasks: the pitch and instrument models on decoded audio.
  10_autoencoders.
- ``sequence``: causal sequence models: the Transformer's layers for YAML (``TokenEmbedding``,
  ``CausalSelfAttention``, ``TokenHead``), the causal mask, the delay pattern, teacher forcing
  (``lm_batch_loss``), sampling with temperature and top-k (``generate``), n-gram baselines and perplexity.
  11_generation.
- ``generation``: the ``language_model`` and ``flow`` tasks on notebook 10's latents: ``EncodedDataset`` (windows
  of codes or VAE latents with a prompt), the code tokens' layout, rectified flow (``flow_path``,
  ``euler_sample``), models read from checkpoints or trained (``trained_or_loaded``). 11_generation.
- ``tunes``: the fiddle tunes as tokens for a note model (``read_tunes``, ``NoteLayout``, ``NoteDataset``), and
  what a generated tune is judged by (well-formed bars, intervals, copied runs). 11_generation.
- ``fidelity``: how good generated audio is: the Fréchet distance, KID, nearest neighbours (memorisation), and a
  trained tagger as a ``Judge`` (embeddings, conditioning accuracy). 11_generation.
- ``exercises``: the checkers of the notebooks' exercises (``check('02.1', answer)``), offline, in seconds: the
  framework (``exercises.checking``) and one module per notebook (``exNN_<notebook>``: ``ex01_data`` ...
  ``ex11_generation``); solutions in ``solutions/``. Every notebook.
- ``references``: the bibliography (``docs/bibliography.yaml``) and the glossary (``docs/glossary.md``) behind
  every notebook's "Further reading" and glossary links.
- ``tools``: the maintainers' commands, which no notebook imports: ``tools.website`` (the course as a website,
  with ``tools.site_pages``: its landing, glossary and bibliography pages, and ``tools.launch``: Colab and Binder
  links, the notebooks' Colab cell), ``tools.train_original`` (a config of the original course trained on its real
  dataset) and ``tools.example_audio`` (the notebooks' example recording). README.

How to add a feature type, a placement, a task, a layer, a renderer or a chapter: docs/extending.md.
"""

__version__ = "0.1.0"

from course_utils import safe_files as _safe_files

_safe_files.import_librosa_modules()  # before any notebook or test uses librosa: see its docstring
