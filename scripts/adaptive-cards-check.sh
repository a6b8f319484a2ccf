#!/usr/bin/env bash
# Parses every Adaptive Card the Teams tests saw with the real Adaptive Cards parser (the
# `adaptivecards` npm package, pinned in scripts/adaptive-cards/package-lock.json) and fails on any
# parse or validation problem; Teams app manifests there (*.manifest.json, written by the package
# tests) are validated against the manifest JSON schema shipped in `@microsoft/app-manifest`. The
# tests write each card to $SESAME_TEAMS_CARD_DIR (see the fake Teams in sesame-testkit); this
# script reads that folder, or the one given.
#
# The packages are installed with `npm ci` into a cache folder ($SESAME_NODE_CACHE, by default
# ~/.cache/sesame/adaptive-cards) and installed again only when the lock file changes. Node.js and
# npm come from Debian's packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

cards_dir="${1:-${SESAME_TEAMS_CARD_DIR:-}}"
if [ -z "$cards_dir" ]; then
    echo "usage: scripts/adaptive-cards-check.sh CARD_DIR (or set SESAME_TEAMS_CARD_DIR)" >&2
    exit 2
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "== installing Node.js and npm (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

cache="${SESAME_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sesame/adaptive-cards}"
mkdir -p "$cache"
if ! cmp -s scripts/adaptive-cards/package-lock.json "$cache/package-lock.json" \
    || [ ! -f "$cache/node_modules/adaptivecards/package.json" ]; then
    cp scripts/adaptive-cards/package.json scripts/adaptive-cards/package-lock.json "$cache/"
    (cd "$cache" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi

node scripts/adaptive-cards-check.cjs "$cache" "$cards_dir"
