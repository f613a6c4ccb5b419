"""Pull a model with a progress dialog that can step aside: the download goes on while chatting.

The download runs in an app-level worker, so it outlives the dialog. While the dialog is shown
the worker reports to it; after `b` it reports to `report_to` (the chat screen) instead, with
the same `PullScreen.Progressed` and `PullScreen.Ended` messages.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.message_pump import MessagePump
from textual.screen import ModalScreen
from textual.widgets import Label, ProgressBar, Static
from textual.worker import Worker

from app.client import ModelNotFound, OllamaError, OllamaServerError
from app.protocol import PullProgress
from app.servers.base import ModelServer
from app.text import human_size, sanitize

UPDATE_SECONDS = 0.1  # the server reports many times a second; the dialog needs far fewer
SPEED_WINDOW = 3.0  # seconds of samples the speed is averaged over
SPEED_MINIMUM_SPAN = 0.5  # fewer seconds of samples than this give no speed yet


@dataclass(frozen=True, slots=True)
class PullSnapshot:
    """Where a pull stands. Byte counts cover the layers announced so far."""

    model: str
    status: str = ""
    layer_completed: int | None = None
    layer_total: int | None = None
    completed: int = 0
    total: int = 0
    speed: float | None = None  # bytes per second

    @property
    def layer_fraction(self) -> float | None:
        if not self.layer_total:
            return None
        return min(1.0, (self.layer_completed or 0) / self.layer_total)

    @property
    def fraction(self) -> float | None:
        return min(1.0, self.completed / self.total) if self.total else None

    @property
    def eta(self) -> float | None:
        """Seconds left at the current speed."""
        if not self.speed or not self.total:
            return None
        return max(0.0, self.total - self.completed) / self.speed

    def detail(self) -> str:
        """`412.3 MB / 815.3 MB · 12.3 MB/s · 32s left` for the current layer."""
        if self.layer_total is None:
            return ""
        parts = [f"{human_size(self.layer_completed or 0)} / {human_size(self.layer_total)}"]
        if self.speed:
            parts.append(f"{human_size(int(self.speed))}/s")
        if (eta := self.eta) is not None and (self.fraction or 0) < 1:
            parts.append(f"{format_eta(eta)} left")
        return " · ".join(parts)

    def summary(self) -> str:
        """One line for a status bar while the pull runs in the background."""
        fraction = self.fraction
        parts = [f"pulling {self.model}", f"{fraction:.0%}" if fraction is not None else self.status]
        if (eta := self.eta) is not None and (fraction or 0) < 1:
            parts.append(f"{format_eta(eta)} left")
        return " · ".join(sanitize(part) for part in parts if part)


def format_eta(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds // 60 % 60:02d}m"


class PullTracker:
    """Adds up `/api/pull` lines: bytes per layer (by digest), totals and a recent speed."""

    def __init__(self, model: str) -> None:
        self.model = model
        self._status = ""
        self._layers: dict[str, tuple[int, int]] = {}  # digest -> (completed, total)
        self._current: tuple[int, int] | None = None
        self._samples: deque[tuple[float, int]] = deque()  # (time, bytes done overall)

    def add(self, progress: PullProgress, now: float) -> bool:
        """Take one line; True when the status changed (worth showing at once)."""
        changed = progress.status != self._status
        self._status = progress.status
        if progress.digest and progress.total:
            self._current = (progress.completed or 0, progress.total)
            self._layers[progress.digest] = self._current
            self._samples.append((now, self._completed()))
            while self._samples and now - self._samples[0][0] > SPEED_WINDOW:
                self._samples.popleft()
        return changed

    def _completed(self) -> int:
        return sum(done for done, _ in self._layers.values())

    def snapshot(self) -> PullSnapshot:
        speed = None
        if len(self._samples) >= 2:
            (start, done_then), (end, done_now) = self._samples[0], self._samples[-1]
            if end - start >= SPEED_MINIMUM_SPAN:
                speed = (done_now - done_then) / (end - start)
        layer_completed, layer_total = self._current or (None, None)
        return PullSnapshot(
            self.model,
            self._status,
            layer_completed,
            layer_total,
            self._completed(),
            sum(total for _, total in self._layers.values()),
            speed,
        )


def pull_failure(model: str, error: OllamaError) -> str:
    """The server's own words when it sent some, else the client's sentence."""
    if isinstance(error, OllamaServerError | ModelNotFound):
        return f"Could not pull {model}: {error.message}"
    return str(error)


class PullScreen(ModalScreen[str | None]):
    """Pulls `model`; dismisses with its name once it is ready, or None (cancelled, failed,
    or sent to the background with `b`)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("b", "background", "Background"),
    ]

    @dataclass
    class Progressed(Message, bubble=False):
        snapshot: PullSnapshot

    @dataclass
    class Ended(Message, bubble=False):
        """The pull is over: ready when neither `error` nor `cancelled` is set."""

        model: str
        error: str = ""
        cancelled: bool = False

    def __init__(self, client: ModelServer, model: str, *, report_to: MessagePump | None = None) -> None:
        super().__init__()
        self.client = client
        self.model = model
        self.report_to = report_to  # None: no background mode
        self.background = False
        self.outcome: PullScreen.Ended | None = None
        self._last: PullSnapshot | None = None
        self._worker: Worker[None] | None = None

    def compose(self) -> ComposeResult:
        name = sanitize(self.model)
        with Vertical(id="pull-dialog"):
            yield Label(f"Pulling {name}", id="pull-title", markup=False)
            yield Static("starting…", id="pull-status", markup=False)
            yield ProgressBar(id="pull-layer", show_eta=False)
            yield Static("", id="pull-detail", markup=False)
            yield Label("All layers", classes="pull-caption")
            yield ProgressBar(id="pull-overall", show_eta=False)
            yield Static("", id="pull-error", classes="-hidden", markup=False)
            keys = "Esc cancel · b keep pulling in the background" if self.report_to else "Esc cancel"
            yield Static(keys, id="pull-keys", markup=False)

    def on_mount(self) -> None:
        self._worker = self.app.run_worker(self._pull(), name=f"pull {self.model}", group="pull", exclusive=False)

    async def _pull(self) -> None:
        tracker = PullTracker(self.model)
        ended = self.Ended(self.model, cancelled=True)
        last = 0.0
        try:
            async for progress in self.client.pull(self.model):
                now = time.monotonic()
                if tracker.add(progress, now) or now - last >= UPDATE_SECONDS:
                    self._report(self.Progressed(tracker.snapshot()))
                    last = now
            ended = self.Ended(self.model)
        except OllamaError as error:
            ended = self.Ended(self.model, error=pull_failure(self.model, error))
        finally:  # on cancel too; set before posting so `b` can no longer send it elsewhere
            self.outcome = ended
            self._report(self.Progressed(tracker.snapshot()))
            self._report(ended)

    def _report(self, message: Message) -> None:
        if isinstance(message, self.Progressed):
            self._last = message.snapshot
        target = self.report_to if self.background and self.report_to else self
        target.post_message(message)

    @on(Progressed)
    def _progressed(self, event: Progressed) -> None:
        snapshot = event.snapshot
        self.query_one("#pull-status", Static).update(sanitize(snapshot.status) or "starting…")
        if snapshot.layer_total:
            self.query_one("#pull-layer", ProgressBar).update(
                total=snapshot.layer_total, progress=snapshot.layer_completed or 0
            )
        if snapshot.total:
            self.query_one("#pull-overall", ProgressBar).update(total=snapshot.total, progress=snapshot.completed)
        self.query_one("#pull-detail", Static).update(snapshot.detail())

    @on(Ended)
    def _ended(self, event: Ended) -> None:
        if event.cancelled:
            return  # Esc already closed the dialog
        if not event.error:
            self.dismiss(self.model)
            return
        self.query_one("#pull-title", Label).update(f"Could not pull {sanitize(self.model)}")
        error = self.query_one("#pull-error", Static)
        error.update(sanitize(event.error))
        error.remove_class("-hidden")
        self.query_one("#pull-keys", Static).update("Esc close")
        for bar in self.query(ProgressBar):
            if bar.total is None:  # no size came: an empty bar, not one still waiting
                bar.update(total=1, progress=0)
        self.add_class("-failed")  # the bars stay where the download stopped, drawn as failed

    def action_cancel(self) -> None:
        if self.outcome is None and self._worker is not None:
            self._worker.cancel()  # leaving the stream closes it: the server stops sending
            self.notify(
                f"Stopped pulling {sanitize(self.model)}. Pulling it again resumes the download.",
                markup=False,
            )
        self.dismiss(None)

    def action_background(self) -> None:
        if self.report_to is None or self.outcome is not None:
            return
        self.background = True
        if self._last is not None:
            self.report_to.post_message(self.Progressed(self._last))
        self.notify(f"Pulling {sanitize(self.model)} in the background.", markup=False)
        self.dismiss(None)
