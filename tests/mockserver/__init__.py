"""Tests of the HTTP layer: routes, codecs, errors, control API, CLI."""
