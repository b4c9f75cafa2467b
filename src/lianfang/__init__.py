"""lianfang (联防): provincial public-security data sharing platform."""

__version__ = "0.1.0"
