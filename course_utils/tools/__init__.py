"""The maintainers' tools: commands that no notebook imports.

- ``website``: the course as a website (``python -m course_utils.tools.website``);
- ``train_original``: a config of the original course trained on its real dataset
  (``python -m course_utils.tools.train_original``).
"""
