"""Frame analysis over the time axis of any feature: the patches (segments) a dataset cuts, ``f_get_patches``.
Taught in notebooks/02_features.ipynb (and its exercise 2).
"""

from course_utils import audio_store


def f_get_patches(total_len, patch_len, patch_hopsize):
    """Frame analysis over the time axis of a feature: the list of patches (segments) to cut.

    Patches start at 0, ``patch_hopsize``, 2 * ``patch_hopsize``, ... and are ``patch_len`` frames long.
    **The tail**: when the last regular patch stops before the end, one more patch is added that ends
    exactly at ``total_len`` (it overlaps its neighbour more), so every frame is in at least one patch
    and all patches have the same length. **A feature shorter than one patch** raises a ValueError:
    pad the audio, or choose a shorter ``patch_L_frame``.

    Parameters
    ----------
    total_len : int, number of frames of the feature (its last axis)
    patch_len : int, frames per patch (the config's ``patch_L_frame``, e.g. 64)
    patch_hopsize : int, frames between the starts of two patches (``patch_STEP_frame``, e.g. 32)

    Returns
    -------
    patch_l : list of dict ``{'start_frame': int, 'end_frame': int}``, end excluded
        (``X[..., start_frame:end_frame]``)

    Taught in notebooks/02_features.ipynb.
    """
    total_len = audio_store.check_sample_count(total_len, "total_len") if total_len != 0 else 0
    patch_len = audio_store.check_sample_count(patch_len, "patch_len (patch_L_frame)")
    patch_hopsize = audio_store.check_sample_count(patch_hopsize, "patch_hopsize (patch_STEP_frame)")
    if total_len < patch_len:
        raise ValueError(
            f"the feature has {total_len} frames, fewer than one patch of {patch_len} frames; "
            "use longer audio (or pad it) or a smaller patch_L_frame")
    start_v = list(range(0, total_len - patch_len + 1, patch_hopsize))
    if start_v[-1] + patch_len < total_len:
        start_v.append(total_len - patch_len)
    return [{"start_frame": start, "end_frame": start + patch_len} for start in start_v]
