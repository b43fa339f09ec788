#!/usr/bin/env bash
# Install the package and run the monthly cycle end to end on the bundled Lạng Sơn DDCI 2024 plan,
# ending with `archive` (the month's log moved to so_theo_doi_DDCI_2024_luu_tru_<year>.xlsx beside the master).
source "$(dirname "$0")/_env.sh"
exec .venv/bin/kehoach-xl demo "${1:-workbooks/demo}" --force
