"""Command line of the course dataset.

    python -m course_utils.data build --preset small --out data   # the preset and its cover collection
    python -m course_utils.data build --preset full --out data
    python -m course_utils.data index        # regroup the chorale corpus into tunes (rarely needed)
    python -m course_utils.data families     # group the Essen folk songs into tune families (rarely needed)
"""

import argparse
import sys
import time
from pathlib import Path

from course_utils.data import build


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_utils.data", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    command = parser.add_subparsers(dest="command", required=True)
    build_parser = command.add_parser("build", help="render a preset of the course dataset")
    build_parser.add_argument("--preset", required=True, help=f"one of {', '.join(build.PRESET_D)}")
    build_parser.add_argument("--out", default="data", help="output folder (default: data)")
    build_parser.add_argument("--workers", type=int, default=None, help="parallel processes (default: cores)")
    index_parser = command.add_parser("index", help="group the chorales of the corpus into tunes")
    index_parser.add_argument("--workers", type=int, default=None)
    family_parser = command.add_parser("families", help="group the Essen folk songs into tune families")
    family_parser.add_argument("--workers", type=int, default=None)
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.command == "build":
        if args.preset not in build.PRESET_D:
            parser.error(f"unknown preset '{args.preset}'; use one of {', '.join(build.PRESET_D)}")
        out_problem = _out_folder_problem(Path(args.out))
        if out_problem:
            parser.error(out_problem)
        for covers in (False, True):  # the preset, then its cover collection (notebook 07)
            audio_path, pyjama_path = build.build_dataset(args.preset, args.out, n_workers=args.workers, covers=covers)
            size_mb = (audio_path.stat().st_size + pyjama_path.stat().st_size) / 1e6
            print(f"built {audio_path} and {pyjama_path} ({size_mb:.1f} MB) in {time.perf_counter() - start:.1f} s")
            start = time.perf_counter()
    elif args.command == "families":
        index_d = build.build_family_index(n_workers=args.workers)
        print(f"{len(index_d['families'])} families of {sum(len(f) for f in index_d['families'])} songs, "
              f"{len(index_d['generic_titles'])} generic titles, {len(index_d['unreadable'])} unreadable songs, "
              f"in {time.perf_counter() - start:.1f} s")
    else:
        index_d = build.build_chorale_index(n_workers=args.workers)
        n_cover = sum(1 for tune in index_d["tunes"] if len(tune) > 1)
        print(f"{len(index_d['tunes'])} tunes ({n_cover} with several harmonisations), "
              f"{len(index_d['duplicates'])} duplicates, in {time.perf_counter() - start:.1f} s")
    return 0


def _out_folder_problem(out_dir):
    """Why ``out_dir`` cannot hold the dataset (a file, or under a file, of that name), or None."""
    for path in (out_dir, *out_dir.parents):
        if path.exists() and not path.is_dir():
            return (f"--out {out_dir}: {path} is a file, not a folder; give a folder for the dataset (it is created if "
                    "missing), e.g. --out data")
    return None


if __name__ == "__main__":
    sys.exit(main())
