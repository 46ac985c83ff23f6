# micropos: `make run` and `make test` set up whatever is missing, then do their job.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
READY  := $(VENV)/.ready
BOARD  ?= esp32_devkitc

.PHONY: setup run test bench deploy flash hil clean

setup: $(READY)

$(READY): requirements.lock host/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e host
	touch $@

run: setup
	$(BIN)/micropos demo

test: setup
	$(BIN)/pytest

bench: setup
	$(BIN)/micropos bench

deploy: setup
	$(if $(PORT),,$(error PORT is required: make deploy PORT=/dev/ttyUSB0 (or a virtual board's pty)))
	$(BIN)/micropos deploy --port $(PORT) --board $(if $(filter command line,$(origin BOARD)),$(BOARD),auto)

flash: setup
	$(if $(PORT),,$(error PORT is required: make flash BOARD=esp32_devkitc PORT=/dev/ttyUSB0 FIRMWARE=ESP32_GENERIC.bin))
	$(BIN)/micropos flash --board $(BOARD) --port $(PORT) $(if $(FIRMWARE),--firmware $(FIRMWARE))

hil: setup
	$(if $(PORT),,$(error PORT is required: make hil PORT=/dev/ttyUSB0 (or a virtual board's pty)))
	$(BIN)/pytest tests/hil --port $(PORT)

clean:
	rm -rf $(VENV) build var
