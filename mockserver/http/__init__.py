"""The HTTP layer: Connect unary JSON over ASGI, the control API, and their helpers.

Nothing here knows how tasks behave; it decodes a request, calls
:meth:`mockserver.domain.Backend.call`, and encodes the reply or the error.
"""
