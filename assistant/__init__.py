"""Aisle's conversation engine. Importing this package must stay cheap: no torch, gradio or chromadb."""

__version__ = "0.1.0"
