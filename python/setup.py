"""Builds the evo extension from the repository's own C sources.

The C library (libevo.a) and the evo command-line tool are built by the
repository's CMake project (tests off) in the build folder, then the
extension links libevo.a statically, so the installed package needs no
libevo.so. The CLI binary ships inside the package (evo/_bin/evo) for
evo.compile / evo.quantize / evo.eval and the `evo` console script.

Environment:
  EVO_BUILD_DIR  an existing CMake build of this repository to link instead
                 of building one (it must hold libevo.a and evo)
  EVO_JOBS       parallel compile jobs (default: the CPU count)

An sdist carries a copy of the C tree in _csrc/ so that it builds alone.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
C_TREE = ["CMakeLists.txt", "cmake", "include", "src", "tools", "examples/camera_loop.c",
          "bench/conv_layer.c", "bench/qconv_layer.c"]


def source_root():
    """The repository root (a checkout) or the copy inside an unpacked sdist."""
    for root in (HERE.parent, HERE / "_csrc"):
        if (root / "include" / "evo.h").is_file() and (root / "CMakeLists.txt").is_file():
            return root
    raise RuntimeError("evo: C sources not found (expected ../include/evo.h or _csrc/)")


def pkg_config_libs(names):
    try:
        out = subprocess.run(["pkg-config", "--libs"] + names, check=True, capture_output=True, text=True)
        return out.stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return ["-lturbojpeg", "-lspng"]


class BuildEvo(build_ext):
    """Builds libevo.a and the CLI with CMake, then the extension against them."""

    def cmake_build(self, root):
        prebuilt = os.environ.get("EVO_BUILD_DIR")
        if prebuilt:
            return Path(prebuilt).resolve()
        build = Path(self.build_temp).resolve() / "cmake"
        jobs = os.environ.get("EVO_JOBS", str(os.cpu_count() or 2))
        subprocess.run(["cmake", "-S", str(root), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                        "-DEVO_BUILD_TESTS=OFF"], check=True)
        subprocess.run(["cmake", "--build", str(build), "--target", "evo", "evo_cli", "-j", jobs], check=True)
        return build

    def run(self):
        root = source_root()
        build = self.cmake_build(root)
        lib, cli = build / "libevo.a", build / "evo"
        for f in (lib, cli):
            if not f.is_file():
                raise RuntimeError(f"evo: {f} was not built")
        for ext in self.extensions:
            ext.include_dirs += [str(root / "include"), str(root / "src")]
            ext.extra_objects.append(str(lib))
            ext.extra_link_args += pkg_config_libs(["libturbojpeg", "spng"]) + ["-lpthread", "-lm"]
        # relink every time: libevo.a and CFLAGS are not among setuptools' up-to-date checks
        self.force = True
        super().run()
        dest = Path(self.get_ext_fullpath("evo._evo")).parent / "_bin"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(cli, dest / "evo")


class SdistEvo(sdist):
    """Copies the C tree into the sdist (as _csrc/) so that it builds without the checkout."""

    def make_release_tree(self, base_dir, files):
        super().make_release_tree(base_dir, files)
        root = source_root()
        for item in C_TREE:
            src, dst = root / item, Path(base_dir) / "_csrc" / item
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dst)


setup(
    ext_modules=[Extension("evo._evo", sources=["evo/_evo.c"], depends=["evo/_detector.inc"],
                           define_macros=[("_GNU_SOURCE", None)],
                           extra_compile_args=["-std=c11", "-fvisibility=hidden", "-Wall", "-Wextra",
                                               "-Wno-unused-parameter", "-Wno-missing-field-initializers"])],
    cmdclass={"build_ext": BuildEvo, "sdist": SdistEvo},
)
