"""A description of the machine a run was made on, for the results file."""

from __future__ import annotations

import os
import platform
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGES = ("textual", "rich", "httpx", "markdown-it-py")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024**2
    except OSError:
        pass
    return None


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def describe() -> list[str]:
    """Markdown list items: CPU, cores, RAM, OS, Python and the libraries that matter."""
    memory = memory_gib()
    return [
        f"CPU: {cpu_model()}, {os.cpu_count()} logical cores"
        + (f" ({len(os.sched_getaffinity(0))} usable)" if hasattr(os, "sched_getaffinity") else ""),
        f"RAM: {memory:.1f} GiB" if memory else "RAM: unknown",
        f"OS: {platform.system()} {platform.release()} ({platform.machine()})",
        f"Python: {platform.python_implementation()} {platform.python_version()}",
        "Libraries: " + ", ".join(f"{name} {package_version(name)}" for name in PACKAGES),
    ]
