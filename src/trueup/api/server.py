"""The app uvicorn imports (`trueup.api.server:app`), for the workspace `trueup serve` names."""

import os

from trueup.api.app import create_app
from trueup.workspace import Workspace

app = create_app(Workspace.open(os.environ.get("TRUEUP_WORKSPACE", ".")))
