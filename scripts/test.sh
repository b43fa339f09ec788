#!/usr/bin/env bash
# Install everything the tests need (LibreOffice included) and run the whole suite.
source "$(dirname "$0")/_env.sh"
if ! command -v soffice >/dev/null || ! command -v pdftoppm >/dev/null; then
  apt_install libreoffice-calc-nogui libreoffice-writer-nogui poppler-utils fonts-liberation \
    || echo "LibreOffice could not be installed: tests that open files in it will be skipped." >&2
fi
if ! command -v dovecot >/dev/null && [ ! -x /usr/sbin/dovecot ]; then
  apt_install dovecot-imapd \
    || echo "Dovecot could not be installed: the mail tests (tests/mail) will be skipped." >&2
fi
command -v soffice >/dev/null && export KEHOACH_REQUIRE_SOFFICE=1
exec .venv/bin/python -m pytest "$@"
