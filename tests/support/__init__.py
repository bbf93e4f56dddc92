"""Test helpers shared across the suite: a scripted OpenAI-compatible server
(``openai_server``) and tiny offline models (``tiny_models``).

Tests import them as ``from support.openai_server import ScriptedOpenAIServer`` (``tests/`` is on
``sys.path`` through ``tests/conftest.py``); scripts outside the suite add ``tests/`` first.
"""
