# make reproduce : the main job (corpus, training, evaluation table)
# make test      : the test suite (installs what is missing first)
# make setup     : Debian packages + .venv with the project and its test extras

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEBIAN_PACKAGES := espeak-ng libvo-amrwbenc0 libopencore-amrwb0 r-cran-janeaustenr
SETUP_STAMP := $(VENV)/.setup-done

.PHONY: setup test reproduce clean-results

setup: $(SETUP_STAMP)

$(SETUP_STAMP): pyproject.toml Makefile
	@missing=$$(for p in $(DEBIAN_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt_get="apt-get"; \
		elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then apt_get="sudo apt-get"; \
		else echo "Debian packages missing: $$missing"; echo "run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $$missing"; exit 1; fi; \
		$$apt_get update -q && DEBIAN_FRONTEND=noninteractive $$apt_get install -y -q --no-install-recommends $$missing; \
	fi
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(SETUP_STAMP)

test: setup
	$(BIN)/python -m pytest -q

# For now: a small embedded corpus, the tiny config trained briefly, evaluated over AWGN.
REPRO_DATA := data/reproduce-corpus
REPRO_RUN := runs/reproduce-tiny
reproduce: setup
	$(BIN)/deepsc-st corpus --out $(REPRO_DATA) --utterances 300 --seed 0
	$(BIN)/deepsc-st train --config tiny --data $(REPRO_DATA) --channel awgn --snr 0:20 --out $(REPRO_RUN) --epochs 8 --batch-size 16 --lr 3e-3
	@for snr in -4 0 8 20; do $(BIN)/deepsc-st evaluate --model $(REPRO_RUN) --data $(REPRO_DATA) --split test --channel awgn --snr $$snr --json; done \
		| $(BIN)/python -c "import json,sys; rows=[json.loads(b) for b in sys.stdin.read().replace('}\n{','}\x00{').split('\x00')]; print('channel  SNR(dB)   CER    WER   symbols/16k'); [print(f\"{r['channel']:7} {r['snr_db']:7.1f} {r['cer']:6.3f} {r['wer']:6.3f} {r['symbols_per_16000_samples']:8.1f}\") for r in rows]"
