"""PolicyBot: clause-level search and cited answers over Guizhou high-tech zone policy texts."""

__version__ = "0.1.0"
