"""Launch InstructIR Explorer: python app.py (serves on 127.0.0.1:7860; GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT override). Offline by default; nothing is loaded until the page asks."""
import os
import threading

import demo  # noqa: F401  (offline flags first)
from demo.service import Explorer
from demo.ui.app import DEFAULT_RETRIEVERS, build_app, launch_kwargs


def warm_up(explorer: Explorer, dataset: str = "demo") -> None:
    """Load the default models in the background so the first page renders at once."""
    for model_id in dict.fromkeys(r.split("@")[0] for r in DEFAULT_RETRIEVERS):
        try:
            explorer.corpus(dataset, model_id)
        except Exception:  # shown in the columns when the page asks
            pass


def main() -> None:
    explorer = Explorer()
    app = build_app(explorer)
    threading.Thread(target=warm_up, args=(explorer,), daemon=True).start()
    app.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
               server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), **launch_kwargs())


if __name__ == "__main__":
    main()
