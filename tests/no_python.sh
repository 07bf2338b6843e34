#!/bin/sh
# Stands in for the tests' Python when the virtual environment is missing:
# the test is reported skipped (77), naming what it would have run.
echo "SKIP: no Python virtual environment (make deps): $1 not run"
exit 77
