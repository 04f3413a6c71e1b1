"""journeyctl: RudderStack tracks → customer journey tables on any warehouse."""

__version__ = "0.1.0"
