# dlexp: Go deep-learning notebooks on the "Go (dlexp)" Jupyter kernel.
#
#   make install   OS packages when missing, then the kernel (tools, ECharts, zoo, kernelspec)
#   make run       install, then execute notebooks/$(NOTEBOOK).ipynb headless into out/
#   make test      install, then go vet, go test and the Jupyter kernel test suite
#   make reproduce every notebook on every dataset present, into out/ with out/index.html
#   make bench     the CPU backend beside PyTorch and numpy, into out/bench.json
#
# Knobs: DLEXP_SIZE=quick|full (length of the experiments, quick by default),
# NOTEBOOK=denoiser (the notebook `make run` executes), PYTHON (the Python with Jupyter),
# GO_P (packages go builds in parallel).

PYTHON     ?= /usr/bin/python3
JUPYTER    := $(PYTHON) -m jupyter
GO_P       ?= 2
NOTEBOOK   ?= denoiser
DLEXP_SIZE ?= quick
# Longest time one cell may run, in seconds.
CELL_TIMEOUT ?= 1800

export DLEXP_SIZE
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export DLEXP_PYTHON := $(PYTHON)

# What `make run` checks the notebook shows besides having no errors.
CHECK_denoiser := -gif -chart
CHECK_identity := -gif -chart
CHECK_superresolution := -gif -chart

.PHONY: all deps install run test bench reproduce doctor uninstall

all: test

deps:
	@PYTHON=$(PYTHON) ./kernel/deps.sh

install: deps
	go run ./kernel install -p $(GO_P)

run: install
	@test -f notebooks/$(NOTEBOOK).ipynb || \
		{ echo "run: notebooks/$(NOTEBOOK).ipynb does not exist"; exit 1; }
	@case "$(DLEXP_SIZE)" in quick|full|smoke) ;; \
		*) echo "run: DLEXP_SIZE=$(DLEXP_SIZE): want quick or full"; exit 1;; esac
	@# A fresh run: the previous run's checkpoints would make training resume at its end.
	@rm -rf "out/$(NOTEBOOK)" && mkdir -p out
	DLEXP_OUT="$(CURDIR)/out" $(JUPYTER) nbconvert --to notebook --execute \
		--ExecutePreprocessor.kernel_name=dlexp \
		--ExecutePreprocessor.timeout=$(CELL_TIMEOUT) \
		--output-dir out --output $(NOTEBOOK).ipynb notebooks/$(NOTEBOOK).ipynb
	$(JUPYTER) nbconvert --to html --output-dir out out/$(NOTEBOOK).ipynb
	go run ./kernel check $(CHECK_$(NOTEBOOK)) out/$(NOTEBOOK).ipynb

test: install
	go vet -p $(GO_P) ./...
	$(PYTHON) kernel/kernel_test.py
	go test -p $(GO_P) -timeout 18m ./...

doctor:
	go run ./kernel doctor

uninstall:
	go run ./kernel uninstall

bench:
	@PYTHON=$(PYTHON) ./bench/cpu/deps.sh
	go run ./bench/cpu -python $(PYTHON) -out out/bench.json $(BENCH_FLAGS)

# Every notebook on every dataset present, into out/ with out/index.html; the size is quick,
# or full when a GPU backend is found, unless DLEXP_SIZE is given.
reproduce: install
	go run ./cmd/reproduce -out out -python $(PYTHON) \
		-size $(if $(filter file,$(origin DLEXP_SIZE)),auto,$(DLEXP_SIZE))
