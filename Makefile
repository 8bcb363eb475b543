# The README's commands. Each first makes sure the environment exists (tools/setup_env.sh
# is a no-op apart from reinstalling mmkd when nothing changed).
VENV ?= .venv
PY := $(VENV)/bin/python
export MMKD_VENV := $(abspath $(VENV))

.PHONY: env demo test test-fast clean

env:
	bash tools/setup_env.sh

demo: env
	$(PY) tools/demo.py $(DEMO_ARGS)

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

clean:
	rm -rf work_dirs build dist *.egg-info mmkd/.mim .pytest_cache
