"""A workspace on disk: its folder, its validated configuration and where its stores live."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from trueup.config import Workspace as Config
from trueup.config import read_workspace
from trueup.config.loader import Located

CONFIG_FILE = "trueup.yaml"
STORE_DIR = ".trueup"


@dataclass(frozen=True)
class Workspace:
    root: Path
    config: Config
    located: Located

    @classmethod
    def open(cls, root: Path | str = ".") -> Workspace:
        """Load `trueup.yaml` from `root`; raises ConfigError listing every problem."""
        root = Path(root).resolve()
        config, located = read_workspace(root / CONFIG_FILE)
        return cls(root=root, config=config, located=located)

    @property
    def config_file(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def store(self) -> Path:
        path = self.root / STORE_DIR
        path.mkdir(exist_ok=True)
        return path

    @property
    def warehouse_path(self) -> Path:
        return self.store / "warehouse.duckdb"

    @property
    def serving_pointer(self) -> Path:
        """Names the snapshot the API answers from; each run's publish step writes a new one."""
        return self.store / "serving.current"

    @property
    def serving_path(self) -> Path:
        """The snapshot the API answers from now (a path that does not exist before the first run)."""
        try:
            return self.store / self.serving_pointer.read_text().strip()
        except FileNotFoundError:
            return self.store / "serving.duckdb"

    @property
    def state_url(self) -> str:
        return self.config.state or f"sqlite:///{self.store / 'state.db'}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.config.timezone)

    def as_of(self) -> datetime:
        """The moment ages and SLAs are measured at."""
        if self.config.as_of is None:
            return datetime.now(self.tz)
        moment = self.config.as_of
        return moment if moment.tzinfo else moment.replace(tzinfo=self.tz)
