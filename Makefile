# Thin front end over CMake + CTest.
#   make            build (release) into build/
#   make test       build and run every test (unit, kernels, conformance, models, fuzz replay);
#                   ends with the count of skipped tests
#   make asan       build with ASan+UBSan into build-asan/ and run every test
#   make fuzz       build the libFuzzer targets with clang and fuzz for FUZZ_SECONDS each
#   make deps       install the Debian packages evo and its tests need
#   make demo       deps + build + export the test models + evo info/run on YOLOv5s
#   make install    build and install into PREFIX (default /usr/local): libevo, evo.h, evo, evo.pc, evoConfig.cmake
#   make bench      evo vs ONNX Runtime on the test models (slow; see bench/README.md)
#   make aarch64    cross-build for 64-bit Arm Linux into build-aarch64/ (cmake/toolchain-aarch64.cmake)
#   make aarch64-test   and run its tests under qemu-user, once per CPU model of AARCH64_CPUS
#                   (max: dotprod + i8mm; cortex-a57: NEON only), then the int8 kernel tests on
#                   AARCH64_DOTPROD_CPU (cortex-a76: dotprod, no i8mm), docs/arm64.md
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

PREFIX ?= /usr/local

.PHONY: install all test asan fuzz deps demo models bench format clean aarch64 aarch64-test

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

# ctest lists skipped tests ("did not run"); the last line counts them.
test: all
	@ctest --test-dir $(BUILD) -j $(JOBS) --output-on-failure -O $(BUILD)/ctest.log; rc=$$?; \
	  n=$$(grep -c '\*\*\*Skipped' $(BUILD)/ctest.log); \
	  echo "skipped: $$n test(s), listed above; why: ctest --test-dir $(BUILD) -R NAME -V"; exit $$rc

asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DEVO_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)"

fuzz:
	CC=clang cmake -S . -B build-fuzz -DEVO_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build-fuzz -j $(JOBS) --target fuzz_targets
	./tests/fuzz/run_fuzzers.sh build-fuzz $(FUZZ_SECONDS)

install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

AARCH64_BUILD ?= build-aarch64
AARCH64_CPUS ?= max cortex-a57
# after the first CPU model, the others rerun what depends on the tier: the kernel tests, evo verify
# (every check at each tier the CPU has) and the tiny model; not the 2.5-minute conv test and the
# YOLO model, whose fp32 kernels are the same at every Arm tier
AARCH64_RERUN ?= ^kernels/|^cli/verify$$|^models/emulated/tiny_cnn
AARCH64_RERUN_SKIP ?= ^kernels/test_conv_fast$$
# then a CPU model with dotprod but no i8mm (Cortex-A76 of the Pi 5 and RK3588), for the int8 tier tests
AARCH64_DOTPROD_CPU ?= cortex-a76
AARCH64_DOTPROD_RERUN ?= ^kernels/test_qconv_fast

aarch64: $(AARCH64_BUILD)/CMakeCache.txt
	cmake --build $(AARCH64_BUILD) -j $(JOBS)

$(AARCH64_BUILD)/CMakeCache.txt:
	cmake -S . -B $(AARCH64_BUILD) -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64.cmake \
	    -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

aarch64-test: aarch64
	@echo "aarch64-test: left out under emulation (tests/emulated.cmake): $$(cat $(AARCH64_BUILD)/emulated-exclude.regex)"
	@sel=""; for cpu in $(AARCH64_CPUS); do \
	    echo "== qemu-aarch64 -cpu $$cpu $${sel:+(tests matching $$sel)}"; \
	    EVO_QEMU_CPU=$$cpu ctest --test-dir $(AARCH64_BUILD) -j $(JOBS) --output-on-failure \
	        -E "$$(cat $(AARCH64_BUILD)/emulated-exclude.regex)$${sel:+|$(AARCH64_RERUN_SKIP)}" \
	        $${sel:+-R "$$sel"} || exit 1; \
	    sel='$(AARCH64_RERUN)'; \
	done; \
	if [ -n "$(AARCH64_DOTPROD_CPU)" ]; then \
	    echo "== qemu-aarch64 -cpu $(AARCH64_DOTPROD_CPU) (tests matching $(AARCH64_DOTPROD_RERUN))"; \
	    EVO_QEMU_CPU=$(AARCH64_DOTPROD_CPU) ctest --test-dir $(AARCH64_BUILD) -j $(JOBS) --output-on-failure \
	        -R '$(AARCH64_DOTPROD_RERUN)' || exit 1; \
	fi

deps:
	./scripts/install-deps.sh

models:
	/usr/bin/python3 models/export.py --out models/out

demo: deps all
	test -f models/out/yolov5s_op17.onnx || $(MAKE) models
	./$(BUILD)/evo info --brief models/out/yolov5s_op17.onnx
	./$(BUILD)/evo run models/out/yolov5s_op17.onnx --input models/out/yolov5s.input.npy \
	    --output $(BUILD)/yolov5s.output.npy --threads 2

bench: all
	./bench/compare $(BENCH_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
