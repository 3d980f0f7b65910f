"""Every bound on the work input can cause, in one place: past each, the input is refused (bad input for a
file a command reads, exit 2; dropped and counted for what a client sends). docs/failure-model.md's "Limits" list
says the same. Pure constants, importable from the core."""

from __future__ import annotations

# IAM wildcard patterns (`*`, `?`) matched against names: see core/wildcard.py.
MAX_ACTION_PATTERN_CHARS = 256  # an Action/NotAction pattern compare reads (real action names are < 130)
MAX_RESOURCE_PATTERN_CHARS = 2_048  # a Resource/NotResource pattern compare reads (IAM's ARN limit)
MAX_NAMED_RESOURCE_WILDCARDS = 16  # `*`/`?` in a resource a client names; past it the resource is dropped

# Files a command reads (policy JSON, captures, state.json).
MAX_JSON_DEPTH = 64  # nesting of arrays and objects in a JSON document (IAM policies need 4)
MAX_JSON_FILE_BYTES = 16 * 1024 * 1024  # a policy document read whole (IAM's own limit is 10 KB)
MAX_STATE_FILE_BYTES = 1024 * 1024 * 1024  # state.json (`explain --output-dir`, a restart), read whole
MAX_CAPTURE_BYTES = 1024 * 1024 * 1024  # what `replay` reads of one capture, after decompression
MAX_CAPTURE_LINES = 10_000_000  # lines (blank ones included) of one capture
MAX_CAPTURE_LINE_BYTES = 64 * 1024  # one line of a capture (a CSM datagram is at most 8 KB)

# The service loop: /health answers 503 when it has not turned for this long (see collector.py).
MIN_STALL_SECONDS = 30.0  # the threshold is max(3 x flush interval, this)
STALL_FLUSH_INTERVALS = 3
# SIGTERM: after this long without the loop stopping, the process writes what it can and exits.
STOP_GRACE_SECONDS = 10.0
# A flush that waits for its files (the final one at a stop, the watchdog's): at most this long, then the
# process goes on (exit 1) with what is not on disk logged. Under the watchdog a stop ends within
# STOP_GRACE_SECONDS + this: 25 s, below ECS's default 30 s stop timeout before SIGKILL.
FINAL_WRITE_SECONDS = 15.0
MAX_STOP_DRAIN_ROUNDS = 20  # rounds of 10,000 queued datagrams read at a stop (more than a receive buffer holds)

# The raw-event archive (outputs/archive.py): a file is closed and a new one begun past this size or age (the
# defaults of --archive-max-bytes and --archive-max-seconds).
ARCHIVE_FILE_MAX_BYTES = 64 * 1024 * 1024  # uncompressed
ARCHIVE_FILE_MAX_SECONDS = 300.0
