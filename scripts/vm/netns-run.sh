#!/bin/bash
# Run a command in a fresh network namespace that has only a loopback
# interface (needs root or CAP_SYS_ADMIN). A qemu started inside it, with
# user-mode networking, can then reach nothing but that namespace's own
# 127.0.0.1, whatever the guest sends.
#
#   scripts/vm/netns-run.sh CMD [ARGS...]
set -euo pipefail
[ $# -gt 0 ] || { sed -n '2,7s/^# \{0,1\}//p' "$0" >&2; exit 2; }
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' netns-run "$@"
