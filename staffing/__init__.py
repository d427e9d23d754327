"""staffing: cost-optimal, service-level-safe staffing plans for inbound call centres."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("staffing")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
