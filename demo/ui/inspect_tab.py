"""The Inspect tab (DESIGN §12): the instance table, contrasts and notes. A placeholder until
the instance table lands; build() receives the same service, the picker bar and the Explore
tab's handle (explore.pick + explore.live open a row in the explorer)."""
from __future__ import annotations

import gradio as gr

from demo.service import Explorer
from demo.ui.controls import Bar


def build(explorer: Explorer, bar: Bar, explore, tabs: gr.Tabs) -> None:
    gr.Markdown("The instance table (every instance's target rank and outcome per retriever) comes here.",
                elem_id="inspect-placeholder")
