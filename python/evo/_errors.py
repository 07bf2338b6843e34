"""evo.Error and its subclasses, one per C status code (include/evo.h)."""


class Error(Exception):
    """An evo call failed. ``str(e)`` is the C message (file, node, op, reason); ``e.status`` the status name."""

    status = "error"


class IoError(Error, OSError):
    """A file could not be read or written (EVO_ERR_IO)."""

    status = "i/o error"


class ParseError(Error):
    """A model or image file is malformed (EVO_ERR_PARSE)."""

    status = "parse error"


class UnsupportedError(Error):
    """An operator, type or option evo does not support (EVO_ERR_UNSUPPORTED)."""

    status = "unsupported"


class ShapeError(Error, ValueError):
    """Shapes do not fit (EVO_ERR_SHAPE)."""

    status = "shape error"


class OutOfMemoryError(Error, MemoryError):
    """An allocation failed (EVO_ERR_NOMEM)."""

    status = "out of memory"


class LimitError(Error):
    """A size limit was exceeded (EVO_ERR_LIMIT)."""

    status = "limit exceeded"


class InvalidArgumentError(Error, ValueError):
    """A bad argument: wrong shape, dtype, index, option (EVO_ERR_INVALID_ARG)."""

    status = "invalid argument"


class InternalError(Error):
    """A broken internal invariant (EVO_ERR_INTERNAL)."""

    status = "internal error"


class CommandError(Error):
    """An evo command-line tool run (compile, quantize, eval) failed; the message is its error output."""

    status = "command failed"


# indexed by the C enum evo_status (EVO_OK = 0 has no exception)
_BY_CODE = [Error, IoError, ParseError, UnsupportedError, ShapeError, OutOfMemoryError, LimitError,
            InvalidArgumentError, InternalError]


def raise_status(code, name, msg):
    """Raises the subclass for a C status code with the C message (called by the extension)."""
    cls = _BY_CODE[code] if 0 < code < len(_BY_CODE) else Error
    raise cls(msg)
