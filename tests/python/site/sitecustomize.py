"""Loaded by every Python test (ctest puts this folder on PYTHONPATH): a test
whose package from requirements.txt is not installed reports skipped (exit 77,
ctest's SKIP_RETURN_CODE) with a line naming the package, instead of failing
with a traceback. Any other missing module still fails."""
import os
import sys

# import names of requirements.txt's packages
PACKAGES = {"numpy", "onnx", "onnxruntime", "ai_edge_litert", "ethosu", "pycocotools", "cv2", "flatbuffers"}
_previous_hook = sys.excepthook


def _skip_missing_package(kind, value, tb):
    name = getattr(value, "name", None)
    if issubclass(kind, ModuleNotFoundError) and name in PACKAGES:
        print(f"SKIP: the Python package {name} is not installed (pip install -r requirements.txt)", flush=True)
        os._exit(77)
    _previous_hook(kind, value, tb)


sys.excepthook = _skip_missing_package
