#!/usr/bin/env bash
# Install the package and run the monthly cycle end to end on the bundled Lạng Sơn DDCI 2024 plan.
source "$(dirname "$0")/_env.sh"
exec .venv/bin/kehoach-xl demo "${1:-workbooks/demo}" --force
