# micropos: `make run` and `make test` set up whatever is missing, then do their job.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
STUBS  := $(VENV)/mpy-stubs/lib/site-packages
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check
BOARD  ?= esp32_devkitc

.PHONY: setup run test check bench deploy flash firmware hil clean

setup: $(READY)

$(READY): requirements.lock requirements-check.lock requirements-stubs.lock host/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) -r requirements.lock -r requirements-check.lock
	$(PIP) --no-deps -e host
	$(PIP) --no-user --upgrade --target $(STUBS) -r requirements-stubs.lock
	touch $@

run: setup
	$(BIN)/micropos demo

# both cores (pytest-xdist), a test file to a core: a firmware test module runs in one unix-port process
test: check
	$(BIN)/pytest -n 2 --dist loadfile

# ruff over everything; mypy (strict) on the host; the firmware and boards against MicroPython's ESP32 stubs
check: setup
	$(BIN)/ruff check host tests firmware boards
	cd host && ../$(BIN)/mypy
	$(BIN)/basedpyright --project firmware/pyrightconfig.json

bench: setup
	$(BIN)/micropos bench

deploy: setup
	$(if $(PORT),,$(error PORT is required: make deploy PORT=/dev/ttyUSB0 (or a virtual board's pty)))
	$(BIN)/micropos deploy --port $(PORT) --board $(if $(filter command line,$(origin BOARD)),$(BOARD),auto)

flash: setup
	$(if $(PORT),,$(error PORT is required: make flash BOARD=esp32_devkitc PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC.bin))
	$(BIN)/micropos flash --board $(BOARD) --port $(PORT) $(if $(FIRMWARE),--firmware $(FIRMWARE))

# MicroPython with the firmware frozen in (needs ESP-IDF's IDF_PATH and MicroPython's MICROPY_DIR)
firmware: setup
	$(BIN)/micropos firmware --board $(BOARD)

hil: setup
	$(if $(PORT),,$(error PORT is required: make hil PORT=/dev/ttyUSB0 (or a virtual board's pty)))
	$(BIN)/pytest tests/hil --port $(PORT)

clean:
	rm -rf $(VENV) build var
