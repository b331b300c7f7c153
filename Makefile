# Guanxi developer commands. `make run` and `make test` are the two set-up commands of the README.
VENV ?= .venv
PYTHON ?= python3
BIN = $(VENV)/bin

.PHONY: run test install install-test clean-instance

$(BIN)/guanxi: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

install: $(BIN)/guanxi

# Create the virtualenv, install, create instance/guanxi.db with demo data and serve http://127.0.0.1:5000
run: install
	$(BIN)/guanxi demo --if-empty
	$(BIN)/guanxi run --host 127.0.0.1 --port 5000

install-test: install
	$(BIN)/pip install --quiet -e '.[test]' -e examples/guanxi-example-plugin

# Install what the tests need and run the whole suite (GUANXI_TEST_DATABASE_URL selects PostgreSQL/MariaDB)
test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider -p no:hypothesispytest --timeout=600 tests examples/guanxi-example-plugin/tests

clean-instance:
	rm -rf instance

# Translations: extract strings, merge into the zh_CN catalogues, compile (.mo files are committed); core and
# every bundled plugin keep their own catalogue. Needs only the installed venv (no reinstall).
translations: | $(BIN)/guanxi
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o core/translations/messages.pot core hooks.py
	$(BIN)/pybabel -q update -i core/translations/messages.pot -d core/translations -l zh_CN --no-fuzzy-matching
	$(BIN)/pybabel -q compile -d core/translations
	for dir in plugins/*/translations; do \
	  plugin=$$(dirname $$dir); \
	  $(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -o $$dir/messages.pot $$plugin && \
	  $(BIN)/pybabel -q update -i $$dir/messages.pot -d $$dir -l zh_CN --no-fuzzy-matching && \
	  $(BIN)/pybabel -q compile -d $$dir || exit 1; \
	done
