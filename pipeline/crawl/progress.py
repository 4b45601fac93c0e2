"""The crawl's progress bars on a terminal: one per portal (rich), drawn on the shared
console so that log lines print above them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as Bars

from pipeline.terminal import console as shared_console

if TYPE_CHECKING:  # for the annotation only: a portal run imports this module
    from pipeline.crawl.portal_run import PortalRun


class Progress:
    """Progress bars of the crawl: URLs handled of URLs found so far, per portal (the
    total grows as listing pages reveal reports). ``enabled=False`` draws nothing: the
    caller enables it only when stderr is a terminal."""

    def __init__(self, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self.console = console
        self.bars: Bars | None = None
        self.tasks: dict[str, TaskID] = {}

    def _start(self) -> Bars:
        if self.bars is None:
            self.bars = Bars(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("reports {task.fields[reports]} failed {task.fields[failed]}"),
                TimeElapsedColumn(),
                console=self.console or shared_console(),
                transient=True,  # the summary follows; the bars would repeat it
            )
            self.bars.start()
        return self.bars

    def update(self, crawl: PortalRun) -> None:
        if not self.enabled:
            return
        bars = self._start()
        name = crawl.portal.name
        s = crawl.summary
        reports = s.reports_new + s.reports_changed + s.reports_unchanged + s.reports_resumed
        if name not in self.tasks:
            self.tasks[name] = bars.add_task(name, total=None, reports=0, failed=0)
        bars.update(
            self.tasks[name],
            total=len(crawl.seen),
            completed=crawl.done,
            reports=reports,
            failed=s.failed + s.blocked,
        )

    def done(self) -> None:
        if self.bars is not None:
            self.bars.stop()
            self.bars = None
