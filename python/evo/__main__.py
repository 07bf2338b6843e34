"""`python -m evo ARGS` runs the evo command-line tool shipped in the package."""
from ._cli import main

main()
