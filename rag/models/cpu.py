"""What this CPU can do, read from /proc/cpuinfo (for the embedding precision and the e5 engine's build)."""

from __future__ import annotations


def cpu_flags() -> list[str]:
    """This CPU's feature flags, in /proc/cpuinfo's order (empty where it cannot be read: non-Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return line.split(":", 1)[1].split()
    except OSError:
        pass
    return []
