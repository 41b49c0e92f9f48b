"""Where a notebook's figures and tables go: shown inline, and written to the folder the build passes in.

A notebook makes one ``Outputs`` from its validated parameters (``params.outputs``). In an
interactive session or under nbval that folder is None and nothing is written; during a build
it is the page's cache folder, from which the build publishes ``reports/figures/`` and
``reports/data/``. Nothing here reads an environment variable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML, Image, display

from helpers.report.figures import png_bytes, save
from helpers.report.spreadsheet import write_csv
from helpers.report.tables import html_table


@dataclass(frozen=True)
class Outputs:
    """Shows figures and tables in the notebook and, when ``folder`` is set, writes them there."""

    folder: Path | None = None

    def figure(self, fig: plt.Figure, name: str) -> None:
        """Show fig inline (PNG) and write ``figures/<name>.svg`` and ``.png``; the figure is closed."""
        if self.folder is not None:
            save(fig, self.folder / "figures" / name)
        display(Image(data=png_bytes(fig), format="png"))
        plt.close(fig)

    def file(self, text: str, name: str) -> None:
        """Write ``data/<name>`` (an export such as a reference list); nothing is shown."""
        if self.folder is not None:
            target = self.folder / "data" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def table(self, df: pd.DataFrame, caption: str, name: str | None = None, sortable: bool = True) -> None:
        """Show an escaped table and write ``data/<name>.csv`` (spreadsheet-safe; when a name is given)."""
        if self.folder is not None and name:
            write_csv(df, self.folder / "data" / f"{name}.csv")
        display(HTML(html_table(df, caption=caption, sortable=sortable)))
