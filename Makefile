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
BUILD ?= build
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE_FLAGS ?=

PREFIX ?= /usr/local

.PHONY: install all test asan fuzz deps demo models bench format clean

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
