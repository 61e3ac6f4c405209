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

test: setup
	swift test $(SWIFT_FLAGS) -Xswiftc -enable-testing

# The Examples package (two programs on the public API). It depends on Graft by
# path, so it is a second full release build: 8m50s on the shared 2-core machine,
# which is why it is not part of `make test`.
examples: setup
	swift build --package-path Examples $(SWIFT_FLAGS)

clean:
	rm -rf .build
