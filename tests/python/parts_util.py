"""Parts of a test script that ctest runs as separate entries.

A script whose cases come from two places (the generated test models, and
the pretrained detectors of ../shared/data) takes `--part local` or
`--part shared`: ctest runs each part as its own entry, so a part that cannot
run here is counted as skipped (exit 77) instead of hiding inside a pass.
Without --part a script runs every part, printing a SKIP line for a part it
cannot run.
"""
SKIP = 77  # ctest SKIP_RETURN_CODE
PARTS = ("local", "shared")


def take_part(argv):
    """Removes "--part NAME" from argv (in place); returns NAME, or None for every part."""
    if "--part" not in argv:
        return None
    i = argv.index("--part")
    if i + 1 >= len(argv) or argv[i + 1] not in PARTS:
        raise SystemExit(f"--part: expected one of {', '.join(PARTS)}")
    part = argv[i + 1]
    del argv[i:i + 2]
    return part


def runs(part, name):
    """Whether part `name` runs when `part` was asked for (None: all)."""
    return part is None or part == name
