# mas_lib: two commands for a newcomer -- `make lab` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The real UCI Online Retail data is never committed; use the shared copy when it sits beside the repo.
SHARED_RETAIL := $(abspath ../shared/data/online_retail)
ifneq ($(wildcard $(SHARED_RETAIL)/online_retail.csv.gz),)
export MAS_LIB_ONLINE_RETAIL ?= $(SHARED_RETAIL)
endif
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: lab test unit notebooks lint book figures bench editions clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip "setuptools>=77"  # tests/test_install.py builds without isolation
	$(BIN)/python -m pip install --quiet -e ".[dev,scale]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

# JupyterLab's address and port: `make lab LAB_IP=0.0.0.0` listens on every interface (a container,
# a remote box); the URL with its login token is printed when the server starts. Jupyter refuses to
# run as root unless told, so root (Docker, Binder, Colab, a CI box) gets --allow-root.
LAB_IP   ?= 127.0.0.1
LAB_PORT ?= 8888
LAB_ARGS ?=
ifeq ($(shell id -u),0)
LAB_ROOT := --allow-root
endif

lab: $(STAMP)  ## open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/ --ip=$(LAB_IP) --port=$(LAB_PORT) $(LAB_ROOT) $(LAB_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check mas_lib tests benchmarks notebooks book/_ext book/*.py

test: $(STAMP) lint  ## unit tests + every notebook under nbval (lax)
	$(BIN)/python -m pytest tests notebooks --nbval-lax -p no:cacheprovider -n auto --dist loadfile

unit: $(STAMP)
	$(BIN)/python -m pytest tests -p no:cacheprovider

notebooks: $(STAMP)
	$(BIN)/python -m pytest notebooks --nbval-lax -p no:cacheprovider

# Jupyter Book (book/_config.yml, book/_toc.yml) writes to build/jupyter-book/_build/html with its
# caches beside it; the site is copied to build/book even when a notebook failed, and make exits 1.
book: $(STAMP)  ## execute every notebook in a fresh kernel (cached) and build the site in build/book/
	@status=0; $(BIN)/jupyter-book build book --path-output build/jupyter-book || status=$$?; \
	rm -rf build/book && cp -r build/jupyter-book/_build/html build/book && \
	echo "book: build/book/index.html" && exit $$status

figures: $(STAMP)  ## every notebook figure as a PNG for slides, in build/figures/ (reuses make book's runs)
	$(BIN)/python book/export_figures.py

bench: $(STAMP)  ## print the benchmark figures shown in the README
	$(BIN)/python benchmarks/bench_env.py
	@for f in benchmarks/bench_forecast.py benchmarks/bench_policies.py benchmarks/bench_coordination.py benchmarks/bench_system.py benchmarks/bench_sweep.py benchmarks/bench_deep_rl.py; do \
	  if [ -f $$f ]; then $(BIN)/python $$f; fi; done

# The teacher edition (the notebooks with their worked solutions) and the student edition
# (solutions removed, an answer cell and a self-grading check after each exercise).
editions: $(STAMP)  ## write build/editions/teacher/ and build/editions/student/
	$(BIN)/python -m mas_lib.teach.editions --source notebooks --out build/editions

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis
