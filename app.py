"""Launch InstructIR Explorer: python app.py (serves on 127.0.0.1:7860; GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT override). Offline by default; nothing is loaded until the page asks.

Gradio's reloaders (`gradio app.py`, and the one every Space starts) look in `__main__` for the
launched Blocks under the name `demo`. The project's package is called `demo` too, so this file
never binds the package to that name (`from demo.x import y` binds only `y`): `demo` here is the
Blocks, set by main() just before launch, so importing app.py builds nothing.
"""
import importlib.util
import os
import threading

from demo.service import Explorer  # importing the package sets the offline flags first
from demo.ui.app import DEFAULT_RETRIEVERS, build_app, launch_kwargs

demo = None  # the launched gr.Blocks (main() sets it)


def warm_up(explorer: Explorer, dataset: str = "demo") -> None:
    """Load the default models in the background so the first page renders at once."""
    for model_id in dict.fromkeys(r.split("@")[0] for r in DEFAULT_RETRIEVERS):
        try:
            explorer.corpus(dataset, model_id)
        except Exception:  # shown in the columns when the page asks
            pass


def quiet_spaces_reloader() -> bool:
    """With SYSTEM=spaces Gradio starts its Spaces hot-reload watcher, which needs the `spaces`
    package (every Gradio Space has it); without it the watcher's thread dies with a traceback at
    start. Without `spaces` there is nothing to reload from, so the watcher becomes a no-op.
    Returns whether it was replaced. (Gradio is pinned exactly; tests/app/test_app_start.py checks the
    name still exists.)"""
    if os.environ.get("SYSTEM") != "spaces" or importlib.util.find_spec("spaces") is not None:
        return False
    import gradio.http_server
    gradio.http_server.watchfn_spaces = lambda reloader: None
    return True


def main() -> None:
    global demo
    explorer = Explorer()
    demo = build_app(explorer)
    quiet_spaces_reloader()
    threading.Thread(target=warm_up, args=(explorer,), daemon=True).start()
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), **launch_kwargs())


if __name__ == "__main__":
    main()
