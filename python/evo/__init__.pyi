"""Type stubs of the evo package (see evo/__init__.py for the documentation)."""
import os
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._errors import (CommandError as CommandError, Error as Error, InternalError as InternalError,
                      InvalidArgumentError as InvalidArgumentError, IoError as IoError, LimitError as LimitError,
                      OutOfMemoryError as OutOfMemoryError, ParseError as ParseError, ShapeError as ShapeError,
                      UnsupportedError as UnsupportedError)

_Path = Union[str, os.PathLike]
_Shapes = Union[Mapping[str, Sequence[int]], Sequence[Tuple[str, Sequence[int]]]]

__version__: str
DETECTION_DTYPE: np.dtype

class TensorInfo(NamedTuple):
    name: str
    shape: Tuple[int, ...]
    dtype: np.dtype
    size_bytes: int

class Model:
    path: str
    isa: Optional[str]
    inputs: List[TensorInfo]
    outputs: List[TensorInfo]
    def __init__(self, path: _Path, input_shape: Optional[_Shapes] = ..., isa: Optional[str] = ...,
                 disable_passes: Optional[str] = ..., default_batch: int = ...) -> None: ...
    def info(self) -> Dict[str, Any]: ...
    def session(self, threads: int = ..., isa: Optional[str] = ..., profile: bool = ...) -> Session: ...

def load(path: _Path, input_shape: Optional[_Shapes] = ..., isa: Optional[str] = ...,
         disable_passes: Optional[str] = ..., default_batch: int = ...) -> Model: ...

class Session:
    model: Model
    def __init__(self, model: Model, threads: int = ..., isa: Optional[str] = ..., profile: bool = ...) -> None: ...
    def input_array(self, key: Union[int, str] = ...) -> np.ndarray: ...
    def input_pointer(self, key: Union[int, str] = ...) -> int: ...
    def output_pointer(self, index: int = ...) -> int: ...
    def run(self, inputs: Union[None, npt.ArrayLike, Sequence[npt.ArrayLike], Mapping[str, npt.ArrayLike]] = ...,
            *, copy: bool = ...) -> List[np.ndarray]: ...
    def profile(self) -> List[Dict[str, Any]]: ...
    @property
    def arena_bytes(self) -> int: ...
    def bench_c(self, runs: int = ..., warmup: int = ...) -> List[float]: ...

class Detector:
    model: Model
    timing: Dict[str, float]
    def __init__(self, model: Union[Model, _Path], preset: Optional[str] = ..., conf: Optional[float] = ...,
                 iou: Optional[float] = ..., threads: int = ..., isa: Optional[str] = ...,
                 max_detections: Optional[int] = ..., class_agnostic: Optional[bool] = ...) -> None: ...
    def __call__(self, frame: Union[_Path, npt.NDArray[np.uint8]], format: str = ...,
                 uv: Optional[npt.NDArray[np.uint8]] = ...) -> np.ndarray: ...
    def detect(self, frame: Union[_Path, npt.NDArray[np.uint8]], format: str = ...,
               uv: Optional[npt.NDArray[np.uint8]] = ...) -> np.ndarray: ...

def compile(model: Union[Model, _Path], output: _Path, input_shape: Optional[Mapping[str, Sequence[int]]] = ...,
            **options: Any) -> str: ...
def quantize(model: Union[Model, _Path], output: _Path, calib: _Path,
             input_shape: Optional[Mapping[str, Sequence[int]]] = ..., **options: Any) -> str: ...
def eval(model: Union[Model, _Path], images: _Path, labels: Optional[_Path] = ...,
         input_shape: Optional[Mapping[str, Sequence[int]]] = ..., **options: Any) -> Dict[str, Any]: ...
def bench(model: Union[Model, _Path], threads: int = ..., runs: int = ..., warmup: int = ..., profile: bool = ...,
          isa: Optional[str] = ..., input_shape: Optional[Mapping[str, Sequence[int]]] = ...) -> Dict[str, Any]: ...
