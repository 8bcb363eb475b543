# The README's commands. Each first makes sure the environment exists (tools/setup_env.sh
# is a no-op apart from reinstalling mmkd when nothing changed).
VENV ?= .venv
PY := $(VENV)/bin/python
export MMKD_VENV := $(abspath $(VENV))

.PHONY: env demo test test-fast docs clean

env:
	bash tools/setup_env.sh

demo: env
	$(PY) tools/demo.py $(DEMO_ARGS)

test: env
	$(PY) -m pytest tests $(PYTEST_ARGS)

# The documentation site, offline, warnings as errors (tests/test_project/test_docs.py builds
# the same).
# The source is the repository root (docs/conf.py says why); requirements/docs.txt comes
# with the environment.
docs: env
	$(PY) -m sphinx -W --keep-going -b html -c docs . docs/_build/html $(SPHINX_ARGS)
	@echo "docs: open docs/_build/html/index.html"

clean:
	rm -rf work_dirs build dist *.egg-info mmkd/.mim .pytest_cache docs/_build
