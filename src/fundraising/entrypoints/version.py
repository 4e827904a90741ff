"""The installed package's version: what `--version` prints and the OpenAPI document states."""

from importlib.metadata import version

VERSION = version("fundraising")
