"""Model tables as `ollama list` and `ollama ps` show them; plain text, no UI."""

from __future__ import annotations

from datetime import datetime

from app.protocol import ModelInfo, RunningModel
from app.text import human_size, sanitize

_FOREVER = 20 * 365 * 86400  # seconds; a negative keep_alive expires centuries from now
_UNITS = (
    ("year", 365 * 86400),
    ("month", 30 * 86400),
    ("week", 7 * 86400),
    ("day", 86400),
    ("hour", 3600),
    ("minute", 60),
    ("second", 1),
)


def model_rows(models: list[ModelInfo], now: datetime) -> list[tuple[str, ...]]:
    """`ollama list` as a table: a header row, then one row per model."""
    rows: list[tuple[str, ...]] = [("NAME", "ID", "SIZE", "MODIFIED")]
    rows.extend(
        (
            sanitize(model.name),
            sanitize(model.digest.removeprefix("sha256:")[:12]),
            human_size(model.size),
            _relative(model.modified_at, now),
        )
        for model in models
    )
    return rows


def running_rows(models: list[RunningModel], now: datetime) -> list[tuple[str, ...]]:
    """`ollama ps` as a table: a header row, then one row per loaded model."""
    rows: list[tuple[str, ...]] = [("NAME", "SIZE", "PROCESSOR", "CONTEXT", "UNTIL")]
    rows.extend(
        (
            sanitize(model.name),
            human_size(model.size),
            processor(model),
            str(model.context_length) if model.context_length else "-",
            _relative(model.expires_at, now),
        )
        for model in models
    )
    return rows


def processor(model: RunningModel) -> str:
    """Where the model sits, as `ollama ps` says it: any part on the CPU makes it slow."""
    if model.size_vram <= 0:
        return "100% CPU"
    if model.size_vram >= model.size:
        return "100% GPU"
    cpu = round((model.size - model.size_vram) / model.size * 100)
    return f"{cpu}%/{100 - cpu}% CPU/GPU"


def relative_time(moment: datetime, now: datetime) -> str:
    """Like "3 days ago" or "4 minutes from now", counted in the largest whole unit."""
    seconds = (moment - now).total_seconds()
    if seconds > _FOREVER:
        return "forever"
    span = abs(seconds)
    if span < 1:
        amount = "less than a second"
    else:
        name, length = next(unit for unit in _UNITS if span >= unit[1])
        count = int(span // length)
        amount = f"{count} {name}" if count == 1 else f"{count} {name}s"
    return f"{amount} from now" if seconds > 0 else f"{amount} ago"


def _relative(text: str, now: datetime) -> str:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return "-"
    if moment.tzinfo is None or moment.year <= 1:  # Go's zero time: not set
        return "-"
    return relative_time(moment, now)


def format_table(rows: list[tuple[str, ...]]) -> str:
    """Columns padded to line up, four spaces apart, as the ollama command prints them."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("    ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)
