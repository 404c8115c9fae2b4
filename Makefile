# The two commands of the README:
#   make demo   set everything up, then serve the app on http://127.0.0.1:7860
#   make test   set everything up (with test tools), then run the whole test suite
.PHONY: demo test bench setup setup-dev deploy

PY := .venv/bin/python

demo: setup
	$(PY) launch.py $(ARGS)

test: setup-dev
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup-dev
	$(PY) -m bench $(ARGS)

setup:
	bash scripts/setup.sh

setup-dev:
	bash scripts/setup.sh --dev

# Deploy the repo root as a Hugging Face Space: make deploy SPACE=user/name (needs HF_TOKEN).
deploy: setup
	$(PY) scripts/deploy_space.py $(SPACE)
