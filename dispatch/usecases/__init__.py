"""The use cases, one module each: `intake` (report, preview, duplicates), `steps` (a person's
step on a case, with its typed commands), `escalation` (the sweep), `digests` (overdue lists and
the daily digest); `runtime` holds what they share (settings, configuration, unit of work)."""
