# The two commands of the README. Each installs what is missing first.
SWIFT_FLAGS ?= -c release
export GRAFT_HOME ?= $(HOME)/.cache/graft

.PHONY: setup build run test examples bench clean

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
EXAMPLES_BUILD = swift build --package-path Examples $(SWIFT_FLAGS) -Xswiftc -enable-testing --scratch-path $(CURDIR)/.build

test: setup
	bash scripts/check-deps.sh
	swift test $(SWIFT_FLAGS) -Xswiftc -enable-testing
	$(EXAMPLES_BUILD)

examples: setup
	$(EXAMPLES_BUILD)

clean:
	rm -rf .build
