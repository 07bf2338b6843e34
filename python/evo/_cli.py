"""The evo command-line tool shipped in the package (evo/_bin/evo), as the `evo` console script."""
import os
import sys
from pathlib import Path


def cli_path():
    """Path of the evo executable inside the package."""
    return str(Path(__file__).resolve().parent / "_bin" / "evo")


def main():
    """Replaces this process with the evo tool, passing the arguments on."""
    exe = cli_path()
    os.execv(exe, [exe] + sys.argv[1:])


if __name__ == "__main__":
    main()
