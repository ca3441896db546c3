"""Speech recognition engines, all behind the :class:`~awaaz.engines.base.Engine` protocol."""
