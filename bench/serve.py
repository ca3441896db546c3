"""Start the Awaaz HTTP API for the benchmark, with the default model loaded in the main thread.

``awaaz serve`` currently loads the default model in a short-lived warm-up thread, and a CTranslate2 model
loaded in a thread that then exits runs 5-10x slower on CPU (docs/PERFORMANCE.md). Until the app loads
it through :meth:`awaaz.service.TranscriptionService.preload`, the benchmark serves the app this way.
"""

from __future__ import annotations

import uvicorn

from awaaz.api.app import create_app
from awaaz.config import get_settings
from awaaz.engines.manager import ModelManager


def main() -> None:
    """Load the default model here, in the thread that goes on to run the server, then serve."""
    settings = get_settings()
    models = ModelManager(settings)
    models.get(settings.default_model)
    app = create_app(settings, models, preload=False)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())


if __name__ == "__main__":
    main()
