"""The pipeline: the ordered steps of a run and the runner that records each run."""

from trueup.pipeline.runner import RunOutcome, run
from trueup.pipeline.steps import STEPS, Step

__all__ = ["STEPS", "RunOutcome", "Step", "run"]
