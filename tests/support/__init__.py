"""Test helpers shared across the suite: a scripted OpenAI-compatible server and tiny models."""
