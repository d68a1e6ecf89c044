#!/usr/bin/env bash
# STAND-IN for the official runner's config.sh (see STANDIN-NOT-THE-OFFICIAL-RUNNER): the
# stand-in is only ever configured just in time, by `run.sh --jitconfig`.
echo "error: this is a test stand-in for the actions runner; it has no config.sh." >&2
echo "hint: run ./run.sh --jitconfig <encoded_jit_config> instead." >&2
exit 1
