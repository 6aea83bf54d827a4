"""Pure-Python forensic analysers: a path goes in, dataclasses come out (no Django here)."""

from .pipeline import analyse_file, analyse_files
from .results import ENGINE_VERSION, AnalyserRun, AnalysisResult

__all__ = ["ENGINE_VERSION", "AnalyserRun", "AnalysisResult", "analyse_file", "analyse_files"]
