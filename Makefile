# The two commands of the README's Quickstart:
#   make book   build the HTML book (executing every chapter) into _build/html
#   make test   run every test: unit, property and PyTorch cross-checks, strict nbval on chapters
# Both create (or reuse) the virtual environment .venv and install what they need into it.
PYTHON ?= python3
# One BLAS thread per process: the tests run two chapters at once on two workers, and
# BLAS thread pools that outnumber the cores busy-wait against each other (a 40x slowdown
# was measured on 2 cores). The chapters' matrices are small, so nothing is lost.
export OPENBLAS_NUM_THREADS = 1
export OMP_NUM_THREADS = 1
export MKL_NUM_THREADS = 1
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: venv book test portability notebooks editions student check-pairing lint constraints clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt jupyterlab/overrides.json
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "Python >= 3.11 is needed (constraints.txt pins numpy 2.4, which needs it); set PYTHON=/path/to/python3.x"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[book,test]"
	# JupyterLab opens the chapters' .md files as notebooks (Jupytext Notebook viewer)
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyterlab/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

book: venv
	$(BIN)/jupyter-book build -W -n --keep-going .
	@echo "The book is ready: open _build/html/index.html"

test: venv
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The numerics-perturbation check: strict nbval of every chapter and the unit tests under
# each numerics profile (other OpenBLAS kernels, numpy without its newest SIMD paths,
# 2 BLAS threads); prints a profile-by-result table. See tools/portability.py.
portability: venv
	$(BIN)/python tools/portability.py $(PROFILES_ARGS)

# Re-create every chapter's .ipynb from its .md source and execute it (stored outputs),
# then the notebook editions made from them.
notebooks: venv
	$(BIN)/python tools/execute_chapters.py
	$(BIN)/python tools/make_editions.py

# The notebook editions of every chapter, in plain Jupyter Markdown (tools/make_editions.py
# says how): reader/NN_name.ipynb (everything, solutions folded) and student/NN_name.ipynb
# (solutions replaced by stubs). Commit reader/ and student/ with them; CI checks both.
editions: venv
	$(BIN)/python tools/make_editions.py

student: editions

check-pairing: venv
	$(BIN)/python tools/check_pairing.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Re-pin constraints.txt to what the virtual environment holds now.
constraints: venv
	{ sed -n '1,3p' constraints.txt; $(BIN)/pip freeze --all --exclude-editable | grep -v -e '^bplib' -e '^pip=='; } > constraints.new
	mv constraints.new constraints.txt
	$(BIN)/python tools/make_binder.py

clean:
	rm -rf _build
