"""The Explore tab: layout and events in .layout; the handlers by part of the tab: .picker (the
picker bar), .editor (instruction editor, variants, reset, deep links), .columns (the rankings
and the summary), .plots_panel (the plots); .context holds what they share."""
from demo.ui.explore.layout import Explore, build, variant_info  # noqa: F401
