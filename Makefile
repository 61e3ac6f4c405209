# The two commands of the README. Each installs what is missing first.
# One configuration for both (and for `make examples`/`make bench`), so `make run` after `make test`
# (or the reverse) compiles nothing twice: the tests need -enable-testing (@testable), so every build
# passes it; `swift test` would add a second copy of its own (testable imports), which changes every
# compile command and rebuilds all, so the test run turns that off.
SWIFT_FLAGS ?= -c release -Xswiftc -enable-testing
export GRAFT_HOME ?= $(HOME)/.cache/graft

.PHONY: setup build run test examples bench consumer-check docs clean

setup:
	@bash scripts/setup.sh

build: setup
	swift build $(SWIFT_FLAGS) --product graft

# The main job on an embedded default: every transfer strategy on a
# Fashion-MNIST few-shot split, one table (add ARGS="--text" for reviews).
run: build
	.build/release/graft doctor
	.build/release/graft compare $(ARGS)

# The tests, then the Examples package (two programs on the public API, which
# must keep compiling against it). Examples depends on Graft by path; built in
# the same scratch folder with the same flags, it reuses the modules the tests
# just compiled and compiles only its two programs: measured +32 s (5.6 s of
# CPU) at load average 14 on the shared 2-core machine, against 3m46s for the
# library chain it would otherwise rebuild in a scratch folder of its own.
EXAMPLES_BUILD = swift build --package-path Examples $(SWIFT_FLAGS) --scratch-path $(CURDIR)/.build
# The benchmarks (bench/Package.swift, depends on Graft by path), the same way: only they compile
# (measured +40 s at load average 5-8, Examples +26 s). bench/NAME/run.sh builds its own binary (plain
# -c release, what a dependent gets); this keeps them all compiling.
BENCH_BUILD = swift build --package-path bench $(SWIFT_FLAGS) --scratch-path $(CURDIR)/.build

test: setup
	bash scripts/check-deps.sh
	bash scripts/check-deps.sh bench
	bash scripts/check-portable.sh
	swift test $(SWIFT_FLAGS) --disable-testable-imports
	$(EXAMPLES_BUILD)
	$(BENCH_BUILD)

examples: setup
	$(EXAMPLES_BUILD)

bench: setup
	$(BENCH_BUILD)

# A fresh package outside the repository depends on a tagged clone of HEAD by version and runs an
# ImageClassifier. It compiles the library chain in a folder of its own (minutes), so `make test`
# does not run it; CI runs it as a step of its own (.ci/run, CONFIG=debug).
consumer-check: setup
	bash scripts/consumer-check.sh

# The DocC archive of the Graft API (the catalog Sources/Graft/Graft.docc + the symbols), built the
# standard way by swift-docc-plugin (a debug build of the library chain for the symbol graphs).
docs:
	mkdir -p .build/docs
	swift package --allow-writing-to-directory .build/docs generate-documentation --target Graft \
	    --output-path .build/docs/Graft.doccarchive --analyze --disable-indexing

clean:
	rm -rf .build
